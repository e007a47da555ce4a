#!/bin/sh
# mkcerts.sh -- certificates for a troupe cluster with mutual TLS
# (tr_cluster_opts.ca / .cert / .key; docs: CERTS.md beside this file).
#
#   mkcerts.sh [options] DIR NODE...
#
# Makes, in DIR (created mode 0700 if missing):
#   ca.crt ca.key           the cluster CA, EC P-256, self-signed (kept and
#                           reused if DIR already has both: add nodes later)
#   NODE.crt NODE.key       per node: an EC P-256 key and a certificate
#   NODE.pem                signed by the CA, CN = DNS SAN = NODE, usable
#                           as TLS server and client (extendedKeyUsage
#                           serverAuth, clientAuth); .pem = cert + key
#
# Options (test certificates; each NAME gets its NAME.crt/.key/.pem):
#   --rogue NAME     a certificate for NAME from another CA (rogue-ca.crt,
#                    rogue-ca.key in DIR): a cluster node must refuse it
#   --expired NAME   a certificate for NAME from the cluster CA, valid
#                    2020-01-01 to 2020-01-02: refused as expired
#   --ip NAME=ADDR   add IP address ADDR to NAME's certificate as an IP
#                    SAN (repeatable), for peers that check the address
#                    they dialed (Erlang's TLS distribution does)
#   --days N         validity of node certificates (default 825)
#   --ca-days N      validity of a new CA (default 3650)
#   -q               quiet: no summary on stdout
#
# Node names: 1 to 64 of [A-Za-z0-9.-], starting with a letter or digit
# (they go into a DNS SAN and are the server name a dialer checks).
# Keys are written mode 0600.  Needs the openssl command (Debian:
# openssl), 1.1.1 or 3.x.
set -eu

usage() {
	sed -n '2,27s/^# \{0,1\}//p' "$0"
}

die() {
	echo "mkcerts.sh: $*" >&2
	exit 2
}

days=825
ca_days=3650
quiet=0
ips=''
rogue=''
expired=''
while [ $# -gt 0 ]; do
	case "$1" in
	--rogue | --expired | --ip | --days | --ca-days)
		[ $# -ge 2 ] || die "$1 needs a value"
		case "$1" in
		--rogue) rogue="$rogue $2" ;;
		--expired) expired="$expired $2" ;;
		--ip)
			case "$2" in
			*=*[!0-9A-Fa-f:.]* | *= | =*) die "--ip needs NAME=ADDR (an IPv4 or IPv6 address)" ;;
			*=*) ips="$ips $2" ;;
			*) die "--ip needs NAME=ADDR" ;;
			esac
			;;
		--days) days=$2 ;;
		--ca-days) ca_days=$2 ;;
		esac
		shift 2
		;;
	-q)
		quiet=1
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	--)
		shift
		break
		;;
	-*) die "unknown option $1 (--help)" ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || { usage >&2; exit 2; }
dir=$1
shift
[ $# -ge 1 ] || [ -n "$rogue$expired" ] || die "no node names (--help)"

for n in "$days" "$ca_days"; do
	case "$n" in
	'' | *[!0-9]* | 0) die "--days and --ca-days need a positive integer" ;;
	esac
done
for name in "$@" $rogue $expired; do
	case "$name" in
	'' | [!A-Za-z0-9]* | *[!A-Za-z0-9.-]*)
		die "bad node name '$name' (1-64 of [A-Za-z0-9.-], first a letter or digit)"
		;;
	esac
	[ "${#name}" -le 64 ] || die "node name longer than 64: $name"
	case "$name" in
	ca | rogue-ca) die "'$name' would overwrite the CA's files" ;;
	esac
done
command -v openssl >/dev/null 2>&1 ||
	die "no openssl command (Debian: apt-get install openssl)"

umask 077
mkdir -p "$dir"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mkcerts.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# The CA's extensions (openssl req -x509 -config).
cat >"$tmp/ca_ext.cnf" <<'EOF'
[req]
distinguished_name = dn
[dn]
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF

# node_ext NODE: a node certificate's extensions, in $tmp/NODE.ext
# (names and addresses are checked above: nothing in them needs
# quoting).
node_ext() {
	san="DNS:$1"

	for pair in $ips; do
		[ "${pair%%=*}" = "$1" ] && san="$san, IP:${pair#*=}"
	done
	cat >"$tmp/$1.ext" <<EOF
[node_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $san
EOF
}

# newkey FILE: an EC P-256 private key (PKCS#8 PEM, which mbedTLS 2.28
# and OpenSSL both read).
newkey() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$1" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
	chmod 600 "$1"
}

# serial: a random positive 120-bit serial number.
serial() {
	echo "0x$(openssl rand -hex 15)"
}

# newca NAME CN: NAME.key and NAME.crt in DIR.
newca() {
	newkey "$dir/$1.key"
	openssl req -new -x509 -key "$dir/$1.key" -subj "/CN=$2" \
	    -days "$ca_days" -sha256 -set_serial "$(serial)" \
	    -config "$tmp/ca_ext.cnf" -extensions ca_ext \
	    -out "$dir/$1.crt" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
}

# csr NODE: a fresh key for NODE and a request in $tmp.
csr() {
	newkey "$dir/$1.key"
	openssl req -new -key "$dir/$1.key" -subj "/CN=$1" \
	    -out "$tmp/$1.csr" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
}

# pem NODE: NODE.pem = certificate then key (what
# nng_tls_config_cert_key_file reads).
pem() {
	cat "$dir/$1.crt" "$dir/$1.key" >"$dir/$1.pem"
	chmod 600 "$dir/$1.pem"
	chmod 644 "$dir/$1.crt"
}

# sign NODE CA: NODE.crt from NODE's request, signed by CA, valid $days.
sign() {
	node_ext "$1"
	openssl x509 -req -in "$tmp/$1.csr" \
	    -CA "$dir/$2.crt" -CAkey "$dir/$2.key" -set_serial "$(serial)" \
	    -days "$days" -sha256 -extfile "$tmp/$1.ext" \
	    -extensions node_ext -out "$dir/$1.crt" 2>"$tmp/err" ||
		{ cat "$tmp/err" >&2; exit 1; }
	pem "$1"
}

# sign_expired NODE: NODE.crt from the cluster CA, valid only in the
# past.  openssl x509 -req cannot back-date (no -not_before before
# OpenSSL 3.4); openssl ca can, with -startdate and -enddate.
sign_expired() {
	mkdir -p "$tmp/db"
	: >"$tmp/db/index.txt"
	cat >"$tmp/ca.cnf" <<EOF
[ca]
default_ca = old
[old]
database = $tmp/db/index.txt
new_certs_dir = $tmp/db
serial = $tmp/db/serial
certificate = $dir/ca.crt
private_key = $dir/ca.key
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
EOF
	serial | sed 's/^0x//' >"$tmp/db/serial"
	node_ext "$1"
	openssl ca -batch -notext -config "$tmp/ca.cnf" \
	    -startdate 20200101000000Z -enddate 20200102000000Z \
	    -extfile "$tmp/$1.ext" -extensions node_ext \
	    -in "$tmp/$1.csr" -out "$dir/$1.crt" >"$tmp/err" 2>&1 ||
		{ cat "$tmp/err" >&2; exit 1; }
	pem "$1"
}

if [ -f "$dir/ca.crt" ] && [ -f "$dir/ca.key" ]; then
	made_ca="kept"
else
	newca ca "troupe cluster CA"
	chmod 644 "$dir/ca.crt"
	made_ca="made"
fi
for name in "$@"; do
	csr "$name"
	sign "$name" ca
done
if [ -n "$rogue" ]; then
	if ! [ -f "$dir/rogue-ca.crt" ] || ! [ -f "$dir/rogue-ca.key" ]; then
		newca rogue-ca "rogue CA (not the cluster's)"
		chmod 644 "$dir/rogue-ca.crt"
	fi
	for name in $rogue; do
		csr "$name"
		sign "$name" rogue-ca
	done
fi
for name in $expired; do
	csr "$name"
	sign_expired "$name"
done

if [ "$quiet" -eq 0 ]; then
	echo "mkcerts.sh: in $dir: CA $made_ca (ca.crt, ca.key)"
	for name in "$@"; do
		echo "  $name: $name.crt $name.key $name.pem"
	done
	for name in $rogue; do
		echo "  $name: from rogue-ca.crt (not the cluster CA)"
	done
	for name in $expired; do
		echo "  $name: expired (2020-01-01 to 2020-01-02)"
	done
fi
