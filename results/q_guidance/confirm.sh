#!/bin/sh
# Confirmatory Q-guidance runs (issue 16): test seeds 1000-1039 of each env, named in
# results/q_guidance/README.md before any of them was run. Resumable: rerun the same command
# (every run uses --resume --extend: finished episodes are kept, each chunk adds seeds). Run from the repository root:
#   sh results/q_guidance/confirm.sh                       # all four envs
#   ENVS=harness/ALFWorldGen-v0 sh results/q_guidance/confirm.sh
#   AGENTS_ONLY=encoder sh results/q_guidance/confirm.sh   # skip the lm-dpo rows
#   CHUNKS="10" sh results/q_guidance/confirm.sh          # seeds 1000-1009 only
set -e
OUT=${OUT:-results/q_guidance/confirm}
ENVS=${ENVS:-"harness/ALFWorldGen-v0 harness/TextWorld-Simple-v0 harness/HotPotQASynth-v1 harness/WebShopSynth-v0"}
RUN="python -m harness.run --seed 1000 --max-steps 15 --policy local --leaderboard= --resume --extend"
# in chunks of 10 seeds, every agent each time: a run stopped early still pairs every agent
for n in ${CHUNKS:-10 20 30 40}; do
  for env in $ENVS; do
    d=$OUT/$(echo "$env" | sed 's#harness/##')
    # greedy ReAct; react-q's k=5 candidates chosen by the proposer's own ranking
    # (react-rank) or a terminal one first (finish-first); react-q with the bundled encoder
    $RUN --episodes "$n" --envs "$env" --agents react react-rank finish-first react-q \
      --out "$d/main"
    # ReAct sampling at temperature 1, one sample per step
    $RUN --episodes "$n" --envs "$env" --agents react --agent-opt react.temperature=1 \
      --out "$d/react-t1"
    if [ "${AGENTS_ONLY:-}" != encoder ]; then
      # react-q with the bundled lm-dpo adapter of the env's family (Q = beta * log-ratio)
      $RUN --episodes "$n" --envs "$env" --agents react-q --agent-opt react-q.scorer=auto:lm-dpo \
        --out "$d/react-q-lm"
    fi
  done
done
# pass@4 headroom of the sampled policy on the first PASSK_SEEDS seeds (default 10): sample 0
# is the react-t1 run itself (same agent, options and seeds), samples 1-3 use sample_seed 1-3
for env in $ENVS; do
  d=$OUT/$(echo "$env" | sed 's#harness/##')
  mkdir -p "$d/passk"
  [ -d "$d/passk/sample0" ] || cp -r "$d/react-t1" "$d/passk/sample0"
  python -m harness.analysis.passk "$d/passk" --envs "$env" --agent react --k 4 --episodes "${PASSK_SEEDS:-10}" \
    --seed 1000 --max-steps 15 --policy local
done
RUNS=""
for d in "$OUT"/*/; do
  RUNS="$RUNS ${d}main ${d}react-t1=react-t1"
  [ -f "${d}react-q-lm/episodes.jsonl" ] && RUNS="$RUNS ${d}react-q-lm=react-q-lm"
done
# shellcheck disable=SC2086
python -m harness.analysis.summary $RUNS --agents react-q react-q-lm \
  --baselines react react-t1 react-rank finish-first --out results/q_guidance/summary.csv \
  --by-type results/q_guidance/summary_by_type.csv \
  --calibration results/q_guidance/summary_calibration.csv \
  --costs results/q_guidance/summary_costs.csv
python -c "import glob, pandas as pd; pd.concat(pd.read_csv(f) for f in sorted(glob.glob('$OUT/*/passk/passk.csv'))).to_csv('results/q_guidance/summary_passk.csv', index=False)"
