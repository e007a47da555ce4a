-- http_report.lua -- wrk's summary of a run as one flat JSON object on
-- stdout, for bench/http.sh.  Only done() is defined: wrk's request and
-- response hooks stay unused, so the script costs nothing during the run.
-- Latencies are in microseconds; non2xx counts responses whose status
-- was not 2xx or 3xx.
done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		'{"wrk":1,"requests":%d,"duration_us":%d,"p50_us":%d,' ..
		'"p99_us":%d,"errors_connect":%d,"errors_read":%d,' ..
		'"errors_write":%d,"errors_timeout":%d,"non2xx":%d}\n',
		summary.requests, summary.duration,
		latency:percentile(50), latency:percentile(99),
		e.connect, e.read, e.write, e.timeout, e.status))
end
