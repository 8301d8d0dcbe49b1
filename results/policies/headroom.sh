#!/bin/sh
# Headroom of the SFT adapter policies (issue 25), as declared in results/policies/PLAN.md:
# test seeds 2000-2049, greedy react with and without the family's adapter, and 5 samples at
# temperature 1 with the adapter. Resumable: rerun the same command. From the repository root:
#   sh results/policies/headroom.sh
#   ENVS="harness/ALFWorldGen-v0" sh results/policies/headroom.sh
set -e
OUT=${OUT:-results/policies/headroom}
ENVS=${ENVS:-"harness/ALFWorldGen-v0 harness/TextWorld-Simple-v0 harness/HotPotQASynth-v1 harness/WebShopSynth-v0"}
SEEDS=${SEEDS:-50}
steps() {
  case "$1" in
    *ALFWorld*) echo 30 ;;
    *TextWorld*) echo 25 ;;
    *WebShop*) echo 15 ;;
    *) echo 10 ;;
  esac
}
for env in $ENVS; do
  d=$OUT/$(echo "$env" | sed 's#harness/##')
  n=$(steps "$env")
  RUN="python -m harness.run --seed 2000 --episodes $SEEDS --max-steps $n --leaderboard= --resume --envs $env --agents react"
  $RUN --policy 'local?adapter=auto' --out "$d/adapter"
  $RUN --policy local --out "$d/base"
  python -m harness.analysis.passk "$d/passk" --envs "$env" --agent react --k 5 \
    --episodes "$SEEDS" --seed 2000 --max-steps "$n" --policy 'local?adapter=auto'
done
python -m harness.analysis.headroom "$OUT" --out results/policies/headroom.csv
# one trajectories.zip per run dir keeps results/ light (harness.report and analysis read it)
python -m harness.archive pack "$OUT"
