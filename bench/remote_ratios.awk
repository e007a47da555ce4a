# remote_ratios.awk -- bench/run.sh remote: ratios of the medians to the
# raw nng floor of the same transport (tcp, tls), from the median lines
# of median.awk.  For each row X of a transport T (troupe_T,
# erlang_dist_T) that is there:
#   call_X_over_nng_T    median round trip of X / nng's (lower is
#                             better; 1.0 = no cost over the raw link)
#   oneway<B>_X_over_nng_T    msgs/s of X / nng's, bodies of B bytes
#                             (higher is better)
#   bulk_X_over_nng_T         MB/s of 1 MiB bodies (troupe only)
# and what TLS costs nng itself: call_nng_tls_over_nng_tcp,
# oneway64_nng_tls_over_nng_tcp, bulk_nng_tls_over_nng_tcp.
# POSIX awk; the input is flat JSON, one object a line.

function get(line, key,    re, s) {
	re = "\"" key "\":"
	s = line
	if (!match(s, re))
		return ""
	s = substr(s, RSTART + RLENGTH)
	sub(/^"/, "", s)
	sub(/[",}].*$/, "", s)
	return s
}

function put(name, num, den, meaning) {
	if (num == "" || den == "" || den + 0 == 0)
		return
	printf "{\"bench\":\"ratio\",\"impl\":\"%s\",\"pinned\":false," \
	    "\"ratio\":%.3f,\"meaning\":\"%s\",\"stat\":\"median_of_runs\"}\n",
	    name, num / den, meaning
}

/"stat":"median_of_runs"/ {
	b = get($0, "bench")
	x = get($0, "impl")
	if (b == "remote_roundtrip")
		rt[x] = get($0, "median_us")
	else if (b == "remote_oneway")
		ow[x, get($0, "body_bytes")] = get($0, "msgs_per_s")
	else if (b == "remote_bulk")
		bulk[x] = get($0, "mb_per_s")
}

END {
	split("tcp tls", ts, " ")
	split("troupe erlang_dist", xs, " ")
	split("64 4096", sizes, " ")
	for (t = 1; t <= 2; t++) {
		floor = "nng_" ts[t]
		for (k = 1; k <= 2; k++) {
			x = xs[k] "_" ts[t]
			put("call_" x "_over_" floor, rt[x], rt[floor],
			    "median round trip / raw nng push-pull round trip")
			for (s = 1; s <= 2; s++)
				put("oneway" sizes[s] "_" x "_over_" floor,
				    ow[x, sizes[s]], ow[floor, sizes[s]],
				    "one-way msgs/s / raw nng push-pull msgs/s")
			put("bulk_" x "_over_" floor, bulk[x], bulk[floor],
			    "1 MiB MB/s / raw nng MB/s")
		}
	}
	put("call_nng_tls_over_nng_tcp", rt["nng_tls"], rt["nng_tcp"],
	    "what TLS adds to the raw round trip")
	put("oneway64_nng_tls_over_nng_tcp", ow["nng_tls", 64],
	    ow["nng_tcp", 64], "raw one-way msgs/s with TLS / without")
	put("bulk_nng_tls_over_nng_tcp", bulk["nng_tls"], bulk["nng_tcp"],
	    "raw MB/s with TLS / without")
}
