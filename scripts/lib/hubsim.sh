# Sourced by scripts that run hubcensus against the simulator: `start_hubsim CONFIG WORKDIR`
# starts `hubsim serve` on loopback (stopping one this shell started before), waits for its
# address line, and points hubcensus at it through HUBCENSUS_* variables with loopback allowed.
# Needs $bin (the directory of the binaries). The simulator is stopped when the shell exits.

sim_pid=""
trap 'stop_hubsim' EXIT

stop_hubsim() {
    if [[ -n $sim_pid ]]; then kill "$sim_pid" 2>/dev/null || true; sim_pid=""; fi
}

start_hubsim() { # CONFIG WORKDIR
    local config=$1 dir=$2
    stop_hubsim
    : >"$dir/hubsim.json"
    "$bin/hubsim" serve --config "$config" >"$dir/hubsim.json" 2>"$dir/hubsim.log" &
    sim_pid=$!
    for _ in $(seq 300); do [[ -s $dir/hubsim.json ]] && break; sleep 0.1; done
    [[ -s $dir/hubsim.json ]] || { cat "$dir/hubsim.log" >&2; return 1; }
    # hubsim prints one flat JSON line: {"auth":..,"cdn":..,"hub":..,"realm":..,"registry":..}
    url() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$dir/hubsim.json"; }
    HUBCENSUS_HUB__URL=$(url hub)
    HUBCENSUS_REGISTRY__URL=$(url registry)
    HUBCENSUS_REGISTRY__AUTH_URL=$(url realm)
    export HUBCENSUS_HUB__URL HUBCENSUS_REGISTRY__URL HUBCENSUS_REGISTRY__AUTH_URL
    export HUBCENSUS_NET__ALLOW_PRIVATE_ADDRESSES=true
}
