# Sourced by scripts/test and scripts/hil: the set-up and build stage they
# share, logged into the run's results folder.
#   logged LOG cmd...      cmd on the console and appended to LOG; returns cmd's status
#   build_stage ROOT BUILD RESULTS
#                          scripts/setup, meson setup (a new BUILD only), ninja, all
#                          into RESULTS/build.log (the nested cross build's own log
#                          copied to RESULTS/firmware-build.log); sets `broken` to why
#                          a step failed ("" when all went well)

logged() {
  local log=$1; shift
  "$@" 2>&1 | tee -a "$log"
  return "${PIPESTATUS[0]}"
}

build_stage() {
  local root=$1 build=$2 results=$3
  broken=""
  if ! logged "$results/build.log" "$root/scripts/setup"; then
    broken="set-up failed (scripts/setup, build.log)"
  elif [ ! -f "$build/build.ninja" ] && ! logged "$results/build.log" meson setup "$build" "$root"; then
    broken="meson setup failed (build.log)"
  elif ! logged "$results/build.log" ninja -C "$build"; then
    broken="build failed (ninja, build.log)"
  fi
  if [ -f "$build/cross.log" ]; then
    cp "$build/cross.log" "$results/firmware-build.log"
  fi
}
