# shellcheck shell=bash
# Shared set-up of the Slurm tests: a private one-node Slurm 22.05 cluster
# (munged, slurmctld, slurmd) in the test's temporary directory, on free
# ports and with its own munge socket and key, so it cannot clash with a
# system Slurm or munged. Sourced by each test; not a test itself.
#
#   source "$(dirname "$0")/lib.sh"   # also gives tests/mpi/lib.sh: $WORK, fail, make_tiny_task...
#   start_cluster                     # exports SLURM_CONF; sbatch, srun, scontrol now talk to it
#
# The configuration is the one of ../shared/LOCAL-CLUSTER.md. On exit every job
# is cancelled, the daemons are stopped by the PIDs in their pid files, and any
# process still carrying this cluster's SLURM_CONF is killed before $WORK goes.
source "$(dirname "${BASH_SOURCE[0]}")/../mpi/lib.sh"

CLUSTER="$WORK/slurm"
MUNGE_DIR="$CLUSTER/munge"
export SLURM_CONF="$CLUSTER/slurm.conf"
cluster_started=""

# The Slurm and munge packages (launch/setup.sh installs them when missing).
need_slurm_packages() {
  local missing=""
  for tool in munged slurmctld slurmd sbatch srun scontrol sinfo; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || missing="$missing $tool"
  done
  [ -z "$missing" ] && return 0
  echo "slurm tests: missing$missing; installing the packages (launch/setup.sh --no-build)"
  "$SRC/launch/setup.sh" --no-build || fail "could not install the Slurm packages"
}

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Every PID whose environment holds this cluster's SLURM_CONF: the daemons,
# slurmstepd and the job's processes. Exact match on a path under $WORK.
cluster_pids() {
  local env pid
  for env in /proc/[0-9]*/environ; do
    pid="${env#/proc/}"; pid="${pid%/environ}"
    [ "$pid" = "$$" ] && continue
    grep -qzxF "SLURM_CONF=$SLURM_CONF" "$env" 2>/dev/null && echo "$pid"
  done
  return 0
}

pid_from() { [ -s "$1" ] && cat "$1" || true; }

stop_cluster() {
  [ -n "$cluster_started" ] || return 0
  cluster_started=""
  local pids pid
  # Jobs first: slurmstepd outlives slurmd, so cancel and wait for them to go.
  if [ -n "$(squeue -h -o %i 2>/dev/null)" ]; then
    # shellcheck disable=SC2046  # one argument per job id
    scancel --full $(squeue -h -o %i 2>/dev/null) 2>/dev/null || true
    for _ in $(seq 1 150); do
      [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
  pids="$(pid_from "$CLUSTER/slurmctld.pid") $(pid_from "$CLUSTER/slurmd.pid")"
  scontrol shutdown >/dev/null 2>&1 || true
  for pid in $pids; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  pid="$(pid_from "$MUNGE_DIR/munged.pid")"
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # Whatever is left of this cluster (a stray slurmstepd, a job rank).
  for pid in $(cluster_pids); do kill -KILL "$pid" 2>/dev/null || true; done
}

slurm_on_exit() {
  local rc=$?
  stop_cluster
  cleanup  # tests/mpi/lib.sh: kills anything left that mentions $WORK, removes $WORK
  exit "$rc"
}
trap slurm_on_exit EXIT

show_cluster_logs() {
  local f
  for f in "$CLUSTER"/log/*.log "$MUNGE_DIR/munged.log"; do
    [ -f "$f" ] || continue
    echo "--- $f" >&2
    tail -n 20 "$f" >&2
  done
}

write_slurm_conf() {
  local host cpus mem
  host="$(hostname -s)"
  # Three ranks (coordinator + 2 workers) must fit on a 2-core machine:
  # advertise at least 4 CPUs; config_overrides keeps slurmd from draining the
  # node for having fewer than configured.
  cpus="$(nproc)"
  [ "$cpus" -ge 4 ] || cpus=4
  # Well below the real memory: more than the real memory drains the node.
  mem=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 / 2 ))
  # cred_expire: a requeued job waits that long before it may start again
  # (default 120 s); MinJobAge keeps finished jobs visible to scontrol.
  cat > "$SLURM_CONF" <<CONF
ClusterName=distilltest
MailProg=/bin/true
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
AuthInfo=socket=$MUNGE_DIR/munge.socket,cred_expire=10
StateSaveLocation=$CLUSTER/ctld
SlurmdSpoolDir=$CLUSTER/d
SlurmctldPidFile=$CLUSTER/slurmctld.pid
SlurmdPidFile=$CLUSTER/slurmd.pid
SlurmctldLogFile=$CLUSTER/log/slurmctld.log
SlurmdLogFile=$CLUSTER/log/slurmd.log
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
ReturnToService=2
SlurmdTimeout=300
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
}

start_munged() {
  mkdir -p "$MUNGE_DIR"
  # munged runs as the munge user and checks that no one else can write on
  # the path to its socket and key.
  chmod 755 "$WORK" "$CLUSTER"
  if command -v mungekey >/dev/null; then
    mungekey --create --keyfile="$MUNGE_DIR/munge.key" >/dev/null
  else
    dd if=/dev/urandom of="$MUNGE_DIR/munge.key" bs=1024 count=1 2>/dev/null
  fi
  chown -R munge:munge "$MUNGE_DIR"
  chmod 755 "$MUNGE_DIR"  # clients need to reach the socket; the key stays 0600
  chmod 600 "$MUNGE_DIR/munge.key"
  setsid runuser -u munge -- /usr/sbin/munged --socket="$MUNGE_DIR/munge.socket" \
    --key-file="$MUNGE_DIR/munge.key" --pid-file="$MUNGE_DIR/munged.pid" \
    --log-file="$MUNGE_DIR/munged.log" --seed-file="$MUNGE_DIR/munged.seed" </dev/null \
    || { show_cluster_logs; fail "munged did not start"; }
  for _ in $(seq 1 50); do [ -S "$MUNGE_DIR/munge.socket" ] && return 0; sleep 0.1; done
  show_cluster_logs
  fail "munged made no socket"
}

start_cluster() {
  need_slurm_packages
  mkdir -p "$CLUSTER/ctld" "$CLUSTER/d" "$CLUSTER/log"
  write_slurm_conf
  cluster_started=1
  start_munged
  setsid /usr/sbin/slurmctld -f "$SLURM_CONF" </dev/null || { show_cluster_logs; fail "slurmctld did not start"; }
  setsid /usr/sbin/slurmd -f "$SLURM_CONF" </dev/null || { show_cluster_logs; fail "slurmd did not start"; }
  local state=""
  for _ in $(seq 1 300); do
    state="$(sinfo -h -o %T 2>/dev/null || true)"
    [ "$state" = "idle" ] && return 0
    sleep 0.1
  done
  show_cluster_logs
  fail "the node is not idle after 30 s (state: ${state:-none})"
}

# One field of `scontrol show job`: job_field 7 JobState -> COMPLETED; ExitCode -> 0:0.
job_field() {  # job_field JOBID Field
  scontrol show job -o "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# Waits (up to TIMEOUT s) until job JOBID is in a final state; prints it.
wait_for_job_end() {  # wait_for_job_end JOBID TIMEOUT
  local state=""
  for _ in $(seq 1 $(( $2 * 5 ))); do
    state="$(job_field "$1" JobState)"
    case "$state" in
      COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED)
        echo "$state"; return 0 ;;
    esac
    sleep 0.2
  done
  echo "${state:-UNKNOWN}"
  return 1
}
