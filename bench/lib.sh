# bench/lib.sh: what the benches that start servers share. Source it after
# setting work (the run's temporary directory, where servers write *.pid).
# Start a server as `( cd "$work"; ./server … & echo $! >"$work/NAME.pid" )`:
# with `cd … && ./server … &`, $! is a subshell's pid, not the server's, and
# the server outlives the run.

# port_free PORT: fail the run when something already answers on PORT (a
# previous run still stopping, say): the bench would measure that instead.
port_free() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    echo "bench: 127.0.0.1:$1 is already in use; stop what listens there and run again" >&2
    exit 1
  fi
}

# stop_servers: SIGTERM to every process of a $work/*.pid file, up to 15 s
# for their graceful shutdown, then SIGKILL; then the work directory goes.
stop_servers() {
  local pids p i
  pids=$(cat "$work"/*.pid 2>/dev/null || true)
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  for p in $pids; do
    for i in $(seq 1 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then
      echo "bench: process $p did not stop within 15 s of SIGTERM; killed" >&2
      kill -9 "$p" 2>/dev/null || true
    fi
  done
  rm -rf "$work"
}
