# ratios.awk -- troupe over Erlang, per Savina case, from the medians
# that bench/median.awk printed (bench/savina/run.sh feeds it them).
#
# For each case and each troupe placement that has a median, and the
# Erlang median of the same case: one line
#   {"bench":"savina","case":C,"impl":"ratio","placement":P,
#    "troupe_over_erlang":R,"troupe_msgs_per_s":T,"erlang_msgs_per_s":E,
#    "troupe_scale":S,"aim":">= A","meets_aim":true|false,
#    "stat":"median_of_runs"}
# and for each spawn median of troupe one line with the issue's aims
# (rss_per_actor_bytes <= 2048, spawn_us <= 2) and Erlang's figure for
# the same count, if there is one.  POSIX awk.

function get(line, key,    p, rest) {
	p = index(line, "\"" key "\":")
	if (p == 0)
		return ""
	rest = substr(line, p + length(key) + 3)
	if (substr(rest, 1, 1) == "\"") {
		rest = substr(rest, 2)
		return substr(rest, 1, index(rest, "\"") - 1)
	}
	sub(/[,}].*$/, "", rest)
	return rest
}

function aim(c) {
	return (c == "big" || c == "chameneos") ? 0.7 : 1.0
}

/"stat":"median_of_runs"/ && /"bench":"savina"/ {
	c = get($0, "case")
	impl = get($0, "impl")
	pl = get($0, "placement")
	if (c == "spawn") {
		n = get($0, "actors")
		if (impl == "erlang") {
			erss[n] = get($0, "rss_per_actor_bytes")
			eus[n] = get($0, "spawn_us")
		} else if (impl == "troupe") {
			sp[++nsp] = pl SUBSEP n
			rss[pl, n] = get($0, "rss_per_actor_bytes")
			us[pl, n] = get($0, "spawn_us")
			reached[pl, n] = get($0, "actors_reached")
		}
		next
	}
	rate = get($0, "msgs_per_s")
	if (rate == "")
		next
	if (impl == "erlang") {
		erl[c] = rate
	} else if (impl == "troupe") {
		if (!((c, pl) in tro))
			order[++n_order] = c SUBSEP pl
		tro[c, pl] = rate
		scale[c, pl] = get($0, "scale")
	}
}

END {
	for (i = 1; i <= n_order; i++) {
		split(order[i], k, SUBSEP)
		c = k[1]
		pl = k[2]
		if (!(c in erl) || erl[c] + 0 <= 0)
			continue
		r = tro[c, pl] / erl[c]
		printf "{\"bench\":\"savina\",\"case\":\"%s\",\"impl\":\"ratio\"," \
		    "\"placement\":\"%s\",\"troupe_over_erlang\":%.4f," \
		    "\"troupe_msgs_per_s\":%s,\"erlang_msgs_per_s\":%s," \
		    "\"troupe_scale\":%s,\"aim\":\">= %.1f\"," \
		    "\"meets_aim\":%s,\"stat\":\"median_of_runs\"}\n",
		    c, pl, r, tro[c, pl], erl[c], scale[c, pl], aim(c),
		    ((r >= aim(c)) ? "true" : "false")
	}
	for (i = 1; i <= nsp; i++) {
		split(sp[i], k, SUBSEP)
		pl = k[1]
		n = k[2]
		ok = ((reached[pl, n] + 0) == (n + 0)) &&
		    ((rss[pl, n] + 0) <= 2048) && ((us[pl, n] + 0) <= 2)
		printf "{\"bench\":\"savina\",\"case\":\"spawn\",\"impl\":\"aim\"," \
		    "\"placement\":\"%s\",\"actors\":%s,\"actors_reached\":%s," \
		    "\"rss_per_actor_bytes\":%s,\"spawn_us\":%s," \
		    "\"aim\":\"all reached; <= 2048 bytes; <= 2 us\"," \
		    "\"meets_aim\":%s", pl, n, reached[pl, n], rss[pl, n],
		    us[pl, n], (ok ? "true" : "false")
		if (n in erss)
			printf ",\"erlang_rss_per_actor_bytes\":%s," \
			    "\"erlang_spawn_us\":%s", erss[n], eus[n]
		printf ",\"stat\":\"median_of_runs\"}\n"
	}
}
