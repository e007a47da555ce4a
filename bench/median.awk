# median.awk -- medians across runs of the benchmark's JSON lines.
#
# Input: the flat JSON lines of several runs (one object per line; string,
# boolean and number values; no nesting, no commas inside strings).  A
# figure is identified by its string and boolean fields (bench, impl,
# pinned, ...); for each of its number fields the median across the runs
# is printed, with "stat":"median_of_runs" and "runs":<count>.  Lines that
# are not JSON objects are ignored.  POSIX awk (mawk, gawk, busybox).
# Numeric fields named in the variable keys (awk -v keys=actors,...) name
# the figure too, instead of being medians (the Savina spawn figure at
# 10^4, 10^5 and 10^6 actors).

function decimals(v,    p) {
	p = index(v, ".")
	return p ? length(v) - p : 0
}

function median(id, f,    n, i, j, a, t) {
	n = cnt[id]
	for (i = 1; i <= n; i++)
		a[i] = val[id, f, i] + 0
	for (i = 2; i <= n; i++) {	# insertion sort: n is small
		t = a[i]
		for (j = i - 1; j >= 1 && a[j] > t; j--)
			a[j + 1] = a[j]
		a[j + 1] = t
	}
	if (n % 2)
		return a[(n + 1) / 2]
	return (a[n / 2] + a[n / 2 + 1]) / 2
}

BEGIN {
	nk = split(keys, kl, ",")
	for (i = 1; i <= nk; i++)
		keyset["\"" kl[i] "\""] = 1
}

/^[ \t]*\{.*\}[ \t]*$/ {
	line = $0
	sub(/^[ \t]*\{/, "", line)
	sub(/\}[ \t]*$/, "", line)
	np = split(line, parts, ",")
	id = ""
	nf = 0
	for (i = 1; i <= np; i++) {
		p = index(parts[i], ":")
		if (p == 0)
			continue
		k = substr(parts[i], 1, p - 1)
		v = substr(parts[i], p + 1)
		gsub(/^[ \t]+|[ \t]+$/, "", k)
		gsub(/^[ \t]+|[ \t]+$/, "", v)
		if (v ~ /^-?[0-9]/ && !(k in keyset)) {
			nf++
			fk[nf] = k
			fv[nf] = v
		} else {
			id = id (id == "" ? "" : ",") k ":" v
		}
	}
	if (id == "" || nf == 0)
		next
	if (!(id in cnt)) {
		order[++nids] = id
		cnt[id] = 0
		nfields[id] = 0
	}
	c = ++cnt[id]
	for (i = 1; i <= nf; i++) {
		k = fk[i]
		if (!((id, k) in isfield)) {
			isfield[id, k] = 1
			field[id, ++nfields[id]] = k
			dec[id, k] = 0
		}
		val[id, k, c] = fv[i]
		if (decimals(fv[i]) > dec[id, k])
			dec[id, k] = decimals(fv[i])
	}
}

END {
	for (o = 1; o <= nids; o++) {
		id = order[o]
		printf "{%s,\"stat\":\"median_of_runs\",\"runs\":%d", id, cnt[id]
		for (i = 1; i <= nfields[id]; i++) {
			k = field[id, i]
			printf ",%s:" ("%." dec[id, k] "f"), k, median(id, k)
		}
		printf "}\n"
	}
}
