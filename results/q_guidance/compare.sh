#!/bin/sh
# Rebuilds every comparison table in results/q_guidance/ from the run copies committed in
# results/q_guidance/runs/ (no policy calls, a few seconds). Run from the repository root:
#   sh results/q_guidance/compare.sh
# Later run dirs win on the same (env, agent, seed): runs/eval holds the pipeline's react-q
# with admissible candidates, runs/eval_reactprop* the react-q with ReAct candidates.
set -e
R=results/q_guidance/runs
Q=results/q_guidance
C="python -m qvalue.compare"
EXPL="$R/eval $R/eval_reactprop $R/eval_reactprop_seed0 $R/eval_seeds15_39 $R/eval_rubric $R/eval_rubric_ws $R/eval_rubric_ws_q"
T1_HP="$R/passk_hp/sample0=react-t1 $R/passk_hp/sample1=react-t1 $R/passk_hp/sample2=react-t1 $R/passk_hp/sample3=react-t1"
T1_WS="$R/passk_ws/sample0=react-t1 $R/passk_ws/sample1=react-t1 $R/passk_ws/sample2=react-t1 $R/passk_ws/sample3=react-t1"

# Q guidance: exploratory seeds (HotPotQA 0-39, WebShop 0-14) and the confirmatory HotPotQA run
$C $EXPL --base react --other react-q --out $Q/react_vs_react_q.csv
$C $R/confirm_seeds40_119 --base react --other react-q --out $Q/confirm_react_vs_react_q.csv
# control: the same policy sampled at temperature 1 (mean of 4 samples per seed, seeds 0-14)
$C $R/eval_reactprop $R/eval_reactprop_seed0 $T1_HP $T1_WS --base react-t1 --other react-q \
  --out $Q/react_t1_vs_react_q.csv
# the pipeline's variant: react-q over k=4 random admissible candidates (no LLM at eval)
$C $R/eval --base react --other react-q --out $Q/react_vs_q_admissible_proposer.csv
# rubrics, against react and react-q, on the same seeds (exploratory and confirmatory sets)
CONF="$R/confirm_seeds40_119 $R/confirm_react-rubric $R/confirm_react-q-rubric"
for agent in react-rubric react-q-rubric; do
  name=$(echo $agent | tr - _)
  for base in react react-q; do
    b=$(echo $base | tr - _)
    $C $EXPL --base $base --other $agent --out $Q/${b}_vs_$name.csv
    $C $CONF --base $base --other $agent --out $Q/confirm_${b}_vs_$name.csv
  done
done
