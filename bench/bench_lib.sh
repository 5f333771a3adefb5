# Shared by the bench/run-*.sh scripts (sourced): timed samples and the server-CPU probe.
#   bench_samples=FILE        one line per sample: row tool wall user sys rss_kib server_cpu_s
#   bench_server_pids=(PID..) processes whose CPU counts as "server CPU" (empty: 0)
#   load_env FILE             export the KEY=VALUE lines of a servers.env
#   want ROW                  false when ROWS (env) is set and does not name ROW
#   run ROW TOOL CMD...       one timed sample (skipped unless want ROW) of CMD (and its children): /usr/bin/time -v style
#                             wall, user, sys, peak RSS; plus the servers' CPU over the same span
#   bench_data DIR BIG_MIB SMALL_COUNT SMALL_KIB   random DIR/big.bin and DIR/small/f* (kept between
#                             runs when the sizes match); sets $big and $small
#   bench_report REPEAT SERVER_NAME ROW=TITLE=BYTES=OBJECTS...   the markdown table (bench_report.py)
bench_samples=${bench_samples:-/dev/null}
bench_server_pids=()
bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# CPU seconds (user+sys) the server processes have used so far.
server_cpu() {
  local hz total=0 pid
  hz=$(getconf CLK_TCK)
  for pid in "${bench_server_pids[@]}"; do
    [[ -r /proc/$pid/stat ]] || continue
    total=$(awk -v hz="$hz" -v t="$total" '{print t + ($14 + $15) / hz}' "/proc/$pid/stat")
  done
  echo "$total"
}

# Exports the KEY=VALUE lines of a servers.env (values are raw text, e.g. skip reasons with
# parentheses, so the file is not shell syntax and must not be sourced).
load_env() {
  local k v
  while IFS='=' read -r k v; do [[ -n $k ]] && export "$k=$v"; done <"$1"
}

# ROWS="row ..." (env) limits a script to those rows; unset: every row.
want() { [[ -z ${ROWS:-} || " $ROWS " == *" $1 "* ]]; }

run() {
  local row=$1 tool=$2; shift 2
  want "$row" || return 0
  local t c0; t=$(mktemp); c0=$(server_cpu)
  if ! /usr/bin/time -f '%e %U %S %M' -o "$t" "$@" >/dev/null 2>"$bench_samples.err"; then
    echo "bench: $row/$tool failed: $(tail -3 "$bench_samples.err")" >&2; rm -f "$t"; return 1
  fi
  printf '%s\t%s\t%s\t%s\n' "$row" "$tool" "$(tail -1 "$t" | tr ' ' '\t')" \
    "$(awk -v a="$c0" -v b="$(server_cpu)" 'BEGIN {print b - a}')" >>"$bench_samples"
  rm -f "$t"
}

bench_data() {
  local d=$1 big_mib=$2 count=$3 kib=$4 i
  big=$d/big.bin
  [[ -f $big && $(stat -c %s "$big") -eq $((big_mib << 20)) ]] || head -c $((big_mib << 20)) /dev/urandom >"$big"
  small=$d/small
  if [[ ! -d $small || $(ls "$small" | wc -l) -ne $count ]]; then
    rm -rf "$small"; mkdir -p "$small"
    for i in $(seq -w 1 "$count"); do head -c $((kib << 10)) /dev/urandom >"$small/f$i"; done
  fi
}

bench_report() {
  python3 "$bench_dir/bench_report.py" "$bench_samples" "$@"
}
