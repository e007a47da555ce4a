%% remote_erlang.erl -- the Erlang/OTP peer row of bench/run.sh remote:
%% what Erlang distribution costs between two hosts (two network
%% namespaces), plain (inet_tcp_dist) and over TLS (inet_tls_dist), in
%% the same session as troupe's raw floors, printing the same JSON lines
%% with impl erlang_dist_tcp / erlang_dist_tls.  bench/remote_erlang.sh
%% compiles it and starts the two nodes.
%%
%%   serve()                         on node a: an echo gen_server and a
%%                                   counter, registered; runs until the
%%                                   client stops it
%%   client([Server, Impl, Rounds, N, N4k])
%%                                   on node b: connects to Server,
%%                                   measures, prints, stops Server, halts
%%                                   (0, or 1 if a figure failed)
%%
%% Figures (the floors' names, bench/remote_floors.c):
%%   remote_roundtrip  gen_server:call of a 64-byte binary, answered with
%%                     the same binary: median / p99 of Rounds calls
%%   remote_oneway     N messages of a 64-byte binary, then N4k of 4 KiB,
%%                     sent with ! to a registered process on the other
%%                     node that counts them; msgs/s from the first send
%%                     to the counter's answer to a final request (a
%%                     connection keeps order: it answers once the count
%%                     is in)
-module(remote_erlang).
-behaviour(gen_server).

-export([serve/0, client/1]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2]).

-define(ECHO, remote_erlang_echo).
-define(COUNTER, remote_erlang_counter).
%% How long the client waits for the server node and its processes.
-define(CONNECT_MS, 20000).
-define(CALL_MS, 5000).

%% ------------------------------------------------------------------
%% Server node

serve() ->
    {ok, _} = gen_server:start({local, ?ECHO}, ?MODULE, [], []),
    Counter = spawn(fun() -> count(0) end),
    true = register(?COUNTER, Counter),
    ok.

init([]) -> {ok, nostate}.

handle_call({echo, Bin}, _From, S) -> {reply, Bin, S}.

handle_cast(_, S) -> {noreply, S}.

handle_info(_, S) -> {noreply, S}.

%% Counts data messages; answers a request with the count since the
%% last one.
count(N) ->
    receive
        {d, _Bin} -> count(N + 1);
        {p, From} -> From ! {c, N}, count(0);
        {stop, From} -> From ! stopped, init:stop()
    end.

%% ------------------------------------------------------------------
%% Client node

client([ServerA, ImplA, RoundsA, NA, N4kA]) ->
    Server = ServerA,
    Impl = atom_to_list(ImplA),
    [Rounds, N, N4k] = [list_to_integer(atom_to_list(X)) || X <- [RoundsA, NA, N4kA]],
    Status =
        try
            connect(Server, erlang:monotonic_time(millisecond) + ?CONNECT_MS),
            roundtrip(Server, Impl, Rounds),
            oneway(Server, Impl, N, 64),
            oneway(Server, Impl, N4k, 4096),
            0
        catch
            C:E:St ->
                io:format(standard_error, "remote_erlang: FAILED: ~p:~p ~p~n",
                          [C, E, St]),
                1
        end,
    %% Stop the server node, and know it got the word before this node
    %% goes (its caller kills it otherwise).
    {?COUNTER, Server} ! {stop, self()},
    receive stopped -> ok after ?CALL_MS -> ok end,
    halt(Status).

%% Until the server node answers and its two processes are registered
%% (it may still be starting): polled, within the deadline.
connect(Server, Deadline) ->
    Ready = net_kernel:connect_node(Server) andalso
        is_pid(rpc:call(Server, erlang, whereis, [?COUNTER], ?CALL_MS)),
    case Ready of
        true -> ok;
        false ->
            erlang:monotonic_time(millisecond) < Deadline orelse
                error({no_server_node, Server}),
            timer:sleep(50), % polling the other node, within the deadline
            connect(Server, Deadline)
    end.

roundtrip(Server, Impl, Rounds) ->
    Bin = binary:copy(<<"e">>, 64),
    Warm = Rounds div 10 + 1,
    _ = [Bin = gen_server:call({?ECHO, Server}, {echo, Bin}, ?CALL_MS)
         || _ <- lists:seq(1, Warm)],
    Samples = [begin
                   T0 = erlang:monotonic_time(nanosecond),
                   Bin = gen_server:call({?ECHO, Server}, {echo, Bin}, ?CALL_MS),
                   erlang:monotonic_time(nanosecond) - T0
               end || _ <- lists:seq(1, Rounds)],
    Sorted = lists:sort(Samples),
    line("remote_roundtrip", Impl,
         [{"median_us", us(rank(Sorted, Rounds, 50))},
          {"p99_us", us(rank(Sorted, Rounds, 99))},
          {"min_us", us(hd(Sorted))},
          {"n", Rounds}, {"body_bytes", 64}]).

oneway(Server, Impl, N, Size) ->
    Bin = binary:copy(<<"d">>, Size),
    _ = flood(Server, N div 10 + 1, Bin),
    Secs = flood(Server, N, Bin),
    Rate = N / Secs,
    Rate > 0 orelse error({zero_rate, Size}),
    line("remote_oneway", Impl,
         [{"msgs_per_s", round(Rate)}, {"n", N}, {"body_bytes", Size},
          {"elapsed_s", float_to_list(Secs, [{decimals, 4}])}]).

flood(Server, N, Bin) ->
    To = {?COUNTER, Server},
    T0 = erlang:monotonic_time(nanosecond),
    send_n(To, N, Bin),
    To ! {p, self()},
    receive
        {c, N} -> ok;
        {c, Other} -> error({counted, Other, of_, N})
    after 120000 -> error(no_count)
    end,
    (erlang:monotonic_time(nanosecond) - T0) / 1.0e9.

send_n(_, 0, _) -> ok;
send_n(To, N, Bin) -> To ! {d, Bin}, send_n(To, N - 1, Bin).

%% Nearest rank, as bench/report.c.
rank(Sorted, N, P) ->
    K = max(1, min(N, ceil(P / 100 * N))),
    lists:nth(K, Sorted).

us(Ns) -> float_to_list(Ns / 1000, [{decimals, 2}]).

line(Bench, Impl, Fields) ->
    Num = fun(V) when is_integer(V) -> integer_to_list(V);
             (V) when is_list(V) -> V
          end,
    Rest = [[",\"", K, "\":", Num(V)] || {K, V} <- Fields],
    io:format("{\"bench\":\"~s\",\"impl\":\"~s\",\"pinned\":false,"
              "\"otp\":\"~s\"~s}~n",
              [Bench, Impl, erlang:system_info(otp_release), Rest]).
