"""WebShop's pages in its simple text mode: visible page texts joined by `` [SEP] ``.

A session is on one of five pages: ``search`` (the start page with the search bar),
``results`` (ten results per page, at most 50), ``item`` (a product with its options),
``sub`` (the item's Description, Features or Reviews) and ``done`` (after Buy Now).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from envs.webshop.catalog import Product

SEP = " [SEP] "
PRODUCT_WINDOW = 10
BACK_TO_SEARCH = "Back to Search"
NEXT_PAGE = "Next >"
PREV_PAGE = "< Prev"
BUY_NOW = "Buy Now"
SUB_PAGES = ("Description", "Features", "Reviews")
SEARCH_TEMPLATE = "search[<query>]"


@dataclass
class Session:
    """Where the shopper is: page, query and its results, product, chosen options."""

    page: str = "search"
    query: str = ""
    results: tuple[str, ...] = ()
    page_no: int = 1
    asin: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    sub: str = ""
    reward: float | None = None

    def copy(self) -> Session:
        """An independent copy (options dict included)."""
        return replace(self, options=dict(self.options))

    def page_results(self) -> tuple[str, ...]:
        """The asins shown on the current results page."""
        start = (self.page_no - 1) * PRODUCT_WINDOW
        return self.results[start : start + PRODUCT_WINDOW]


def clickables(s: Session, product: Product | None) -> list[str]:
    """The texts that can be clicked on the current page, in page order."""
    if s.page == "results":
        out = [BACK_TO_SEARCH]
        if s.page_no > 1:
            out.append(PREV_PAGE)
        if s.page_no * PRODUCT_WINDOW < len(s.results):
            out.append(NEXT_PAGE)
        return out + list(s.page_results())
    if s.page == "item" and product is not None:
        values = [v for vs in product.options.values() for v in vs]
        return [BACK_TO_SEARCH, PREV_PAGE, *values, *SUB_PAGES, BUY_NOW]
    if s.page == "sub":
        return [BACK_TO_SEARCH, PREV_PAGE]
    return []


def admissible(s: Session, product: Product | None) -> list[str]:
    """``click[...]`` for every clickable, plus the search template on the search page."""
    acts = [f"click[{c}]" for c in clickables(s, product)]
    return [SEARCH_TEMPLATE] if s.page == "search" else acts


def render(
    s: Session, instruction: str, products: Mapping[str, Product], product: Product | None
) -> str:
    """The page as WebShop's simple text observation."""
    head = ["Instruction:", instruction]
    if s.page == "search":
        return SEP.join(["WebShop", *head, "Search"])
    if s.page == "results":
        parts = [*head, BACK_TO_SEARCH, f"Page {s.page_no} (Total results: {len(s.results)})"]
        parts += [c for c in clickables(s, None)[1:] if c in (PREV_PAGE, NEXT_PAGE)]
        for asin in s.page_results():
            p = products[asin]
            parts += [p.asin, p.title, p.price_tag]
        return SEP.join(parts)
    if s.page == "item" and product is not None:
        parts = [*head, BACK_TO_SEARCH, PREV_PAGE]
        for name, values in product.options.items():
            parts += [name, *values]
        parts += [product.title, f"Price: {product.price_tag}", f"Rating: {product.rating}"]
        return SEP.join([*parts, *SUB_PAGES, BUY_NOW])
    if s.page == "sub" and product is not None:
        return SEP.join([*head, BACK_TO_SEARCH, PREV_PAGE, *sub_page_texts(s.sub, product)])
    if s.page == "done":
        chosen = ", ".join(f"{k}: {v}" for k, v in s.options.items()) or "none"
        return SEP.join(
            [
                "Thank you for shopping with us!",
                f"Purchased: {s.asin}",
                f"Options: {chosen}",
                "Your score (min 0.0, max 1.0)",
                f"{(s.reward or 0.0):.4g}",
            ]
        )
    return SEP.join(head)


def sub_page_texts(sub: str, p: Product) -> list[str]:
    """The body of a Description, Features or Reviews page."""
    if sub == "Description":
        return [p.description or "No Description"]
    if sub == "Features":
        return [b for b in p.bullet_points if b] or ["No Features"]
    out: list[str] = []
    for r in p.reviews:
        out += [f'"{r.title}"', str(r.score), r.body]
    return out or ["No reviews found"]
