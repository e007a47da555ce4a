#!/usr/bin/env escript
%% -*- erlang -*-
%%! +S 2:2 +P 2000000 -noinput
%%
%% savina.erl -- the Savina cases in Erlang, for bench/run.sh savina:
%% the same six cases as bench_savina (bench/savina/*.c), with the same
%% messages, the same counts and the same part timed (from the first
%% message to the last actor's report; spawning and stopping are not
%% timed), printing the same JSON lines with "impl":"erlang".  Two
%% schedulers (+S 2:2), as the 2-core machine the aims were set on.
%%
%%   escript bench/savina/savina.erl [--case NAME|all|spawn] [--scale X]
%%                                   [--quick] [--actors N]
%%
%% Compiled before it runs (-mode(compile)): HiPE's native mode is gone
%% from OTP 24 on.
-mode(compile).

main(Args) ->
    try parse(Args, #{case_name => "all", scale => 1.0, actors => 10000}) of
        Opts -> run(Opts)
    catch
        throw:usage ->
            io:format(standard_error,
                      "usage: savina.erl [--case NAME|all|spawn] "
                      "[--scale X] [--quick] [--actors N]~n", []),
            halt(2)
    end.

parse([], Opts) -> Opts;
parse(["--quick" | T], Opts) -> parse(T, Opts#{scale => 0.01, actors => 200});
parse(["--case", C | T], Opts) -> parse(T, Opts#{case_name => C});
parse(["--scale", S | T], Opts) ->
    X = to_float(S),
    (X > 0 andalso X =< 1) orelse throw(usage),
    parse(T, Opts#{scale => X});
parse(["--actors", N | T], Opts) -> parse(T, Opts#{actors => to_int(N)});
parse(_, _) -> throw(usage).

to_float(S) ->
    try list_to_float(S) catch error:badarg -> float(to_int(S)) end.

to_int(S) ->
    try list_to_integer(S) catch error:badarg -> throw(usage) end.

cases() ->
    [{"pingpong", fun pingpong/1}, {"counting", fun counting/1},
     {"threadring", fun threadring/1}, {"fjthrput", fun fjthrput/1},
     {"big", fun big/1}, {"chameneos", fun chameneos/1}].

run(#{case_name := "spawn", actors := N}) ->
    spawn_figure(N),
    halt(0);
run(#{case_name := Which, scale := Scale}) ->
    Selected = [C || {Name, _} = C <- cases(), Which =:= "all" orelse Which =:= Name],
    Selected =/= [] orelse throw(usage),
    Status = lists:foldl(fun({Name, F}, St) -> St bor run_case(Name, F, Scale) end,
                         0, Selected),
    halt(Status).

run_case(Name, F, Scale) ->
    io:format(standard_error, "savina.erl: ~s (scale ~p)~n", [Name, Scale]),
    Self = self(),
    %% Each case in a process of its own, so that what it leaves behind
    %% (its actors are killed after) does not reach the next one.
    {Pid, Ref} = spawn_monitor(fun() -> Self ! {result, self(), F(Scale)} end),
    receive
        {result, Pid, {ok, Msgs, T, Params}} ->
            receive {'DOWN', Ref, _, _, _} -> ok end,
            io:format("{\"bench\":\"savina\",\"case\":\"~s\",\"impl\":\"erlang\","
                      "\"placement\":\"beam\",\"msgs_per_s\":~s,\"msgs\":~b,"
                      "\"elapsed_s\":~.4f,\"scale\":~s,~s,\"schedulers\":~b,"
                      "\"otp\":\"~s\"}~n",
                      [Name, f0(Msgs / T), Msgs, T, fmt_scale(Scale), Params,
                       erlang:system_info(schedulers_online),
                       erlang:system_info(otp_release)]),
            0;
        {result, Pid, {error, Why}} ->
            receive {'DOWN', Ref, _, _, _} -> ok end,
            error_line(Name, Why);
        {'DOWN', Ref, _, _, Why} ->
            error_line(Name, io_lib:format("~p", [Why]))
    after 600000 ->
            exit(Pid, kill),
            error_line(Name, "timed out")
    end.

error_line(Name, Why) ->
    Text = [case C of $, -> $\s; $" -> $\s; $\\ -> $\s; _ -> C end
            || C <- lists:flatten(Why)],
    io:format("{\"bench\":\"savina\",\"case\":\"~s\",\"impl\":\"erlang\","
              "\"placement\":\"beam\",\"error\":\"~s\"}~n", [Name, Text]),
    1.

fmt_scale(S) when S == 1.0 -> "1";
fmt_scale(S) -> float_to_list(S, [{decimals, 4}, compact]).

%% A number without decimals (io:format's ~f wants at least one).
f0(X) -> float_to_list(float(X), [{decimals, 0}]).

scaled(Scale, Default, Min) -> max(Min, round(Default * Scale)).

now_s() -> erlang:monotonic_time(nanosecond) / 1.0e9.

%% Ends the actors of a case once it has been measured.
kill_all(Pids) -> [exit(P, kill) || P <- Pids], ok.

%% ------------------------------------------------------------------
%% pingpong: N round trips; Ping goes on through a message to itself.
%% Messages counted: 3N.

pingpong(Scale) ->
    N = scaled(Scale, 40000, 10),
    Main = self(),
    Pong = spawn(fun pong/0),
    Ping = spawn(fun() -> ping(Pong, Main, N) end),
    T0 = now_s(),
    Ping ! start,
    receive done -> ok end,
    T = now_s() - T0,
    kill_all([Ping, Pong]),
    {ok, 3 * N, T, io_lib:format("\"n\":~b,\"actors\":2", [N])}.

ping(Pong, Main, Left) ->
    receive
        start -> Pong ! {ping, self()}, ping(Pong, Main, Left - 1);
        next -> Pong ! {ping, self()}, ping(Pong, Main, Left - 1);
        pong when Left > 0 -> self() ! next, ping(Pong, Main, Left);
        pong -> Main ! done, ping(Pong, Main, Left)
    end.

pong() ->
    receive {ping, From} -> From ! pong, pong() end.

%% ------------------------------------------------------------------
%% counting: N increments, then the count.  Messages counted: N + 2.

counting(Scale) ->
    N = scaled(Scale, 1000000, 100),
    Main = self(),
    Counter = spawn(fun() -> counter(0) end),
    Producer = spawn(fun() -> producer(Counter, Main, N) end),
    T0 = now_s(),
    Producer ! start,
    receive {done, C} -> ok end,
    T = now_s() - T0,
    kill_all([Counter, Producer]),
    case C of
        N -> {ok, N + 2, T, io_lib:format("\"n\":~b,\"actors\":2", [N])};
        _ -> {error, io_lib:format("counted ~b of ~b", [C, N])}
    end.

producer(Counter, Main, N) ->
    receive
        start ->
            send_inc(Counter, N),
            Counter ! {get, self()},
            receive {result, C} -> Main ! {done, C} end
    end,
    receive stop -> ok end.

send_inc(_, 0) -> ok;
send_inc(Counter, K) -> Counter ! inc, send_inc(Counter, K - 1).

counter(C) ->
    receive
        inc -> counter(C + 1);
        {get, From} -> From ! {result, C}, counter(C)
    end.

%% ------------------------------------------------------------------
%% threadring: 100 actors, R hops of a token.  Messages counted: R + 1.

threadring(Scale) ->
    NActors = 100,
    R = scaled(Scale, 100000, 100),
    Main = self(),
    Ring = [spawn(fun() -> ring_wait(Main) end) || _ <- lists:seq(1, NActors)],
    Nexts = tl(Ring) ++ [hd(Ring)],
    [begin A ! {setup, Next, Main}, receive setup_ok -> ok end end
     || {A, Next} <- lists:zip(Ring, Nexts)],
    T0 = now_s(),
    hd(Ring) ! {ping, R},
    receive done -> ok end,
    T = now_s() - T0,
    kill_all(Ring),
    {ok, R + 1, T, io_lib:format("\"actors\":~b,\"rounds\":~b", [NActors, R])}.

ring_wait(Main) ->
    receive {setup, Next, From} -> From ! setup_ok, ring(Next, Main) end.

ring(Next, Main) ->
    receive
        {ping, 0} -> Main ! done, ring(Next, Main);
        {ping, K} -> Next ! {ping, K - 1}, ring(Next, Main)
    end.

%% ------------------------------------------------------------------
%% fjthrput: N rounds of one message to each of 60 actors, each doing
%% sin(37.2)^2 per message.  Theta reaches the workers as an argument:
%% math:sin of a literal would be folded at compile time.
%% Messages counted: 60 N.

fjthrput(Scale) ->
    A = 60,
    N = scaled(Scale, 10000, 10),
    Main = self(),
    Theta = list_to_float("37.2"),
    Ws = [spawn(fun() -> fj_worker(Main, N, 0, Theta) end) || _ <- lists:seq(1, A)],
    T0 = now_s(),
    fj_send(Ws, N),
    [receive done -> ok end || _ <- Ws],
    T = now_s() - T0,
    kill_all(Ws),
    {ok, A * N, T, io_lib:format("\"actors\":~b,\"n\":~b", [A, N])}.

fj_send(_, 0) -> ok;
fj_send(Ws, K) -> [W ! msg || W <- Ws], fj_send(Ws, K - 1).

fj_worker(Main, N, Seen, Theta) ->
    receive
        msg ->
            S = math:sin(Theta),
            S * S > 0 orelse error(unrealistic),
            case Seen + 1 of
                N -> Main ! done, fj_worker(Main, N, N, Theta);
                Seen1 -> fj_worker(Main, N, Seen1, Theta)
            end
    end.

%% ------------------------------------------------------------------
%% big: 120 actors, N pings each to peers picked by Savina's
%% PseudoRandom.  Messages counted: 2 * 120 * N.

big(Scale) ->
    W = 120,
    N = scaled(Scale, 20000, 10),
    Main = self(),
    Sink = spawn(fun() -> sink(Main, W, 0, 0) end),
    Bigs = [spawn(fun() -> big_wait(Id, N, Sink) end) || Id <- lists:seq(0, W - 1)],
    Peers = list_to_tuple(Bigs),
    [begin B ! {setup, Peers, Main}, receive setup_ok -> ok end end || B <- Bigs],
    T0 = now_s(),
    [B ! {pong, -1} || B <- Bigs],
    receive {done, Mismatches} -> ok end,
    T = now_s() - T0,
    kill_all([Sink | Bigs]),
    case Mismatches of
        0 -> {ok, 2 * W * N, T, io_lib:format("\"actors\":~b,\"n\":~b", [W, N])};
        _ -> {error, io_lib:format("~b pongs from a peer not pinged", [Mismatches])}
    end.

big_wait(Id, N, Sink) ->
    receive
        {setup, Peers, From} ->
            From ! setup_ok,
            big_loop(Id, N, Sink, Peers, tuple_size(Peers), 0, -1, Id, 0)
    end.

big_loop(Id, N, Sink, Peers, W, Pings, Exp, Rnd, Mism) ->
    receive
        {ping, Who} ->
            element(Who + 1, Peers) ! {pong, Id},
            big_loop(Id, N, Sink, Peers, W, Pings, Exp, Rnd, Mism);
        {pong, Who} ->
            Mism1 = case Who of Exp -> Mism; _ -> Mism + 1 end,
            case Pings of
                N ->
                    Sink ! {exit, Mism1},
                    big_loop(Id, N, Sink, Peers, W, Pings, Exp, Rnd, Mism1);
                _ ->
                    Rnd1 = (Rnd * 1309 + 13849) band 65535,
                    Target = Rnd1 rem W,
                    element(Target + 1, Peers) ! {ping, Id},
                    big_loop(Id, N, Sink, Peers, W, Pings + 1, Target, Rnd1, Mism1)
            end
    end.

sink(Main, W, Exited, Mism) ->
    receive
        {exit, M} when Exited + 1 =:= W -> Main ! {done, Mism + M}, sink(Main, W, W, 0);
        {exit, M} -> sink(Main, W, Exited + 1, Mism + M)
    end.

%% ------------------------------------------------------------------
%% chameneos: 100 creatures meet through a mall, which forwards the
%% second creature's meet to the waiting one.  Messages counted:
%% 4M + 3C.

-define(FADED, 3).

chameneos(Scale) ->
    C = 100,
    M = scaled(Scale, 200000, 10),
    Main = self(),
    Mall = spawn(fun() -> mall(Main, M, C, none, 0, 0) end),
    Cs = [spawn(fun() -> creature(Mall, I rem 3, 0) end) || I <- lists:seq(0, C - 1)],
    T0 = now_s(),
    [X ! start || X <- Cs],
    receive {done, Sum} -> ok end,
    T = now_s() - T0,
    kill_all([Mall | Cs]),
    case Sum =:= 2 * M of
        true -> {ok, 4 * M + 3 * C, T,
                 io_lib:format("\"actors\":~b,\"meetings\":~b", [C + 1, M])};
        false -> {error, io_lib:format("~b meetings counted, not ~b", [Sum, 2 * M])}
    end.

mall(Main, Left, C, Waiting, Faded, Sum) ->
    receive
        {meet, _, From} when Left =:= 0 ->
            From ! exit,
            mall(Main, Left, C, Waiting, Faded, Sum);
        {meet, _, From} when Waiting =:= none ->
            mall(Main, Left, C, From, Faded, Sum);
        {meet, _, _} = Msg ->
            Waiting ! Msg,
            mall(Main, Left - 1, C, none, Faded, Sum);
        {count, K} when Faded + 1 =:= C ->
            Main ! {done, Sum + K},
            mall(Main, Left, C, Waiting, C, Sum + K);
        {count, K} ->
            mall(Main, Left, C, Waiting, Faded + 1, Sum + K)
    end.

creature(Mall, Color, Meetings) ->
    receive
        start ->
            Mall ! {meet, Color, self()},
            creature(Mall, Color, Meetings);
        {meet, Other, From} ->
            C1 = complement(Color, Other),
            From ! {change, C1},
            Mall ! {meet, C1, self()},
            creature(Mall, C1, Meetings + 1);
        {change, C1} ->
            Mall ! {meet, C1, self()},
            creature(Mall, C1, Meetings + 1);
        exit ->
            Mall ! {count, Meetings},
            creature(Mall, ?FADED, Meetings)
    end.

%% red 0, yellow 1, blue 2, as Savina's ChameneosHelper.complement.
complement(?FADED, _) -> ?FADED;
complement(_, ?FADED) -> ?FADED;
complement(A, A) -> A;
complement(A, B) -> 3 - A - B.

%% ------------------------------------------------------------------
%% spawn: N idle processes, the time to spawn them and the resident
%% memory (this OS process's, /proc/self/statm) each one adds.

spawn_figure(N) ->
    Rss0 = rss(),
    T0 = now_s(),
    ok = spawn_idle(N),
    T = now_s() - T0,
    Rss1 = rss(),
    io:format("{\"bench\":\"savina\",\"case\":\"spawn\",\"impl\":\"erlang\","
              "\"placement\":\"beam\",\"actors\":~b,\"actors_reached\":~b,"
              "\"spawn_per_s\":~s,\"spawn_us\":~.3f,"
              "\"rss_per_actor_bytes\":~s,\"rss_before_bytes\":~b,"
              "\"rss_after_bytes\":~b,\"elapsed_s\":~.4f,\"schedulers\":~b,"
              "\"otp\":\"~s\"}~n",
              [N, N, f0(N / T), T * 1.0e6 / N, f0((Rss1 - Rss0) / N), Rss0, Rss1, T,
               erlang:system_info(schedulers_online),
               erlang:system_info(otp_release)]).

%% Not kept in a list, which would add its own words per process: they
%% end with the node.
spawn_idle(0) -> ok;
spawn_idle(K) ->
    spawn(fun() -> receive stop -> ok end end),
    spawn_idle(K - 1).

rss() ->
    {ok, Bin} = file:read_file("/proc/self/statm"),
    [_, Resident | _] = string:lexemes(binary_to_list(Bin), " \n"),
    list_to_integer(Resident) * page_size().

%% The page size: getconf, which Debian's libc-bin always has.
page_size() ->
    case string:trim(os:cmd("getconf PAGESIZE")) of
        "" -> 4096;
        S -> list_to_integer(S)
    end.
