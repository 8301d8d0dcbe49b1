"""Word lists of the generated WebShop catalog: product types per category, brands, text."""

from __future__ import annotations

from dataclasses import dataclass


def words(text: str) -> tuple[str, ...]:
    """The whitespace-separated words of ``text``."""
    return tuple(text.split())


COLORS = words(
    "black white navy red green beige brown pink purple yellow orange khaki olive burgundy "
    "teal charcoal silver gold ivory coral lavender maroon turquoise"
)
APPAREL_SIZES = ("x-small", "small", "medium", "large", "x-large", "xx-large")
SHOE_SIZES = ("6", "6.5", "7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "12")
BED_SIZES = ("twin", "full", "queen", "king", "california king")
PACKS = tuple(
    f"{n} {unit} (pack of {k})"
    for n, unit in (("8", "ounce"), ("16", "ounce"), ("12", "count"))
    for k in (1, 2, 3, 6)
)
VOLUMES = ("1.7 fl oz", "3.4 fl oz", "8 fl oz", "16.9 fl oz", "33.8 fl oz")
LENGTHS = ("3 feet", "6 feet", "10 feet", "15 feet", "25 feet")
FLAVORS = (
    "vanilla",
    "sea salt caramel",
    "peanut butter",
    "mixed berry",
    "cinnamon",
    "espresso",
    "honey",
    "mango",
    "original",
    "matcha",
    "smoky barbecue",
    "coconut",
)
SCENTS = ("lavender", "unscented", "citrus", "eucalyptus", "rose", "sandalwood", "coconut")
STYLES = ("modern", "rustic", "industrial", "farmhouse", "mid century", "scandinavian")
CAPACITIES = ("10000mah", "20000mah", "26800mah")
FINISHES = ("matte", "glossy", "satin", "shimmer")


@dataclass(frozen=True)
class ProductType:
    """One kind of product: how it is named, searched, described, optioned and priced."""

    category: str
    product_category: str
    noun: str
    query: str
    title_nouns: tuple[str, ...]
    attributes: tuple[str, ...]
    options: tuple[tuple[str, tuple[str, ...]], ...]
    price: tuple[float, float]


def _t(
    category: str,
    path: str,
    noun: str,
    query: str,
    titles: str,
    attrs: str,
    options: tuple[tuple[str, tuple[str, ...]], ...],
    price: tuple[float, float],
) -> ProductType:
    return ProductType(
        category,
        path,
        noun,
        query,
        tuple(titles.split("|")),
        tuple(attrs.split("|")),
        options,
        price,
    )


_CLOTHES = "Clothing, Shoes & Jewelry › Men › Clothing"
_WOMEN = "Clothing, Shoes & Jewelry › Women › Clothing"
_BEAUTY = "Beauty & Personal Care"
_ELEC = "Electronics › Computers & Accessories"
_FOOD = "Grocery & Gourmet Food"
_HOME = "Home & Kitchen › Furniture"
_SPORT = "Sports & Outdoors › Exercise & Fitness"
_C, _S = ("color", COLORS), ("size", APPAREL_SIZES)

TYPES: tuple[ProductType, ...] = (
    _t(
        "fashion",
        f"{_CLOTHES} › Hoodies",
        "hoodie",
        "men's hoodies",
        "Pullover Hoodie|Zip Up Hoodie|Hooded Sweatshirt",
        "machine wash|long sleeve|relaxed fit|fleece lined|drawstring closure|cotton blend|"
        "kangaroo pocket|soft material",
        (_C, _S),
        (18, 70),
    ),
    _t(
        "fashion",
        f"{_CLOTHES} › Shirts",
        "t-shirt",
        "men's t-shirts",
        "Crew Neck T-Shirt|V-Neck Tee|Graphic Tee",
        "short sleeve|slim fit|moisture wicking|machine washable|tagless collar|"
        "breathable fabric|pre shrunk|classic fit",
        (_C, _S),
        (9, 35),
    ),
    _t(
        "fashion",
        f"{_WOMEN} › Dresses",
        "dress",
        "women's dresses",
        "Maxi Dress|Midi Dress|Wrap Dress|Shift Dress",
        "flowy hem|hand wash|v neck|button closure|elastic waist|summer casual|"
        "side pockets|lightweight chiffon",
        (_C, _S),
        (22, 90),
    ),
    _t(
        "fashion",
        "Clothing, Shoes & Jewelry › Men › Shoes",
        "sneaker",
        "men's sneakers",
        "Running Sneakers|Walking Shoes|Trail Sneakers",
        "rubber sole|non slip|arch support|memory foam|lace up|breathable mesh|"
        "shock absorbing|wide toe box",
        (_C, ("size", SHOE_SIZES)),
        (30, 120),
    ),
    _t(
        "fashion",
        f"{_WOMEN} › Coats & Jackets",
        "jacket",
        "women's jackets",
        "Puffer Jacket|Rain Jacket|Quilted Jacket",
        "water resistant|zipper closure|detachable hood|insulated lining|windproof shell|"
        "packable design|snap pockets|warm padding",
        (_C, _S),
        (35, 160),
    ),
    _t(
        "beauty",
        f"{_BEAUTY} › Hair Care › Shampoo",
        "shampoo",
        "shampoo",
        "Moisturizing Shampoo|Clarifying Shampoo|Volumizing Shampoo",
        "sulfate free|paraben free|natural ingredients|dry hair|color safe|cruelty free|"
        "argan oil|hair growth",
        (("scent", SCENTS), ("size", VOLUMES)),
        (7, 40),
    ),
    _t(
        "beauty",
        f"{_BEAUTY} › Skin Care › Body",
        "body lotion",
        "body lotion",
        "Body Lotion|Hydrating Body Cream|Daily Moisturizer",
        "fragrance free|sensitive skin|shea butter|non greasy|long lasting|dermatologist "
        "tested|vitamin e|fast absorbing",
        (("scent", SCENTS), ("size", VOLUMES)),
        (6, 35),
    ),
    _t(
        "beauty",
        f"{_BEAUTY} › Makeup › Lips",
        "lipstick",
        "lipstick",
        "Liquid Lipstick|Lip Stain|Creamy Lipstick",
        "long wearing|highly pigmented|transfer proof|vegan formula|hydrating finish|"
        "smudge proof|nourishing oils|easy to apply",
        (_C, ("finish", FINISHES)),
        (5, 30),
    ),
    _t(
        "beauty",
        f"{_BEAUTY} › Skin Care › Face",
        "face serum",
        "face serum",
        "Vitamin C Serum|Hyaluronic Acid Serum|Retinol Serum",
        "anti aging|fine lines|dark spots|oil free|clinically proven|paraben free|"
        "brightening formula|plant based",
        (("size", VOLUMES),),
        (10, 60),
    ),
    _t(
        "beauty",
        f"{_BEAUTY} › Personal Care › Deodorants",
        "deodorant",
        "deodorant",
        "Natural Deodorant|Deodorant Stick|Roll On Deodorant",
        "aluminum free|baking soda free|sensitive skin|travel size|odor protection|"
        "clean ingredients|long lasting|easy glide",
        (("scent", SCENTS),),
        (5, 25),
    ),
    _t(
        "electronics",
        f"{_ELEC} › Cables",
        "usb cable",
        "usb c cable",
        "USB C Cable|Braided Charging Cable|Fast Charge Cord",
        "fast charging|nylon braided|high speed|data transfer|durable connector|"
        "tangle free|universal compatibility|aluminum housing",
        (_C, ("size", LENGTHS)),
        (6, 30),
    ),
    _t(
        "electronics",
        "Electronics › Headphones › Earbuds",
        "wireless earbuds",
        "wireless earbuds",
        "Wireless Earbuds|Bluetooth Earphones|True Wireless Earbuds",
        "noise cancelling|charging case|touch control|water resistant|deep bass|"
        "hands free calling|long battery life|ergonomic fit",
        (_C,),
        (20, 150),
    ),
    _t(
        "electronics",
        "Electronics › Portable Audio › Speakers",
        "bluetooth speaker",
        "bluetooth speaker",
        "Portable Speaker|Bluetooth Speaker|Outdoor Speaker",
        "waterproof design|stereo sound|built in microphone|long battery life|"
        "wireless pairing|rugged body|loud volume|usb charging",
        (_C,),
        (25, 130),
    ),
    _t(
        "electronics",
        "Cell Phones & Accessories › Chargers › Power Banks",
        "power bank",
        "portable charger",
        "Power Bank|Portable Charger|Battery Pack",
        "fast charging|dual usb|led display|compact size|high capacity|travel friendly|"
        "overcharge protection|slim design",
        (_C, ("capacity", CAPACITIES)),
        (15, 70),
    ),
    _t(
        "electronics",
        f"{_ELEC} › Keyboards",
        "keyboard",
        "wireless keyboard",
        "Wireless Keyboard|Mechanical Keyboard|Ergonomic Keyboard",
        "quiet keys|backlit keys|rechargeable battery|multi device|full size|"
        "plug and play|spill resistant|tactile switches",
        (_C,),
        (20, 110),
    ),
    _t(
        "food",
        f"{_FOOD} › Snack Foods › Bars",
        "protein bar",
        "protein bars",
        "Protein Bars|Energy Bars|Nutrition Bars",
        "gluten free|high protein|low sugar|plant based|non gmo|keto friendly|"
        "dairy free|whole grain",
        (("flavor name", FLAVORS), ("size", PACKS)),
        (12, 45),
    ),
    _t(
        "food",
        f"{_FOOD} › Beverages › Coffee",
        "coffee",
        "ground coffee",
        "Ground Coffee|Whole Bean Coffee|Cold Brew Coffee",
        "medium roast|dark roast|single origin|fair trade|organic beans|smooth finish|"
        "rich aroma|low acid",
        (("flavor name", FLAVORS), ("size", PACKS)),
        (8, 40),
    ),
    _t(
        "food",
        f"{_FOOD} › Beverages › Tea",
        "herbal tea",
        "herbal tea",
        "Herbal Tea|Tea Bags|Loose Leaf Tea",
        "caffeine free|organic herbs|calming blend|individually wrapped|non gmo|"
        "sugar free|natural flavors|immune support",
        (("flavor name", FLAVORS), ("size", PACKS)),
        (5, 25),
    ),
    _t(
        "food",
        f"{_FOOD} › Snack Foods › Jerky",
        "beef jerky",
        "beef jerky",
        "Beef Jerky|Meat Sticks|Jerky Bites",
        "high protein|grass fed|low fat|no preservatives|gluten free|keto friendly|"
        "resealable bag|small batch",
        (("flavor name", FLAVORS), ("size", PACKS)),
        (9, 45),
    ),
    _t(
        "food",
        f"{_FOOD} › Snack Foods › Nuts",
        "trail mix",
        "trail mix",
        "Trail Mix|Nut Mix|Snack Mix",
        "roasted nuts|no added sugar|heart healthy|individually packed|vegan snack|"
        "resealable bag|real fruit|lightly salted",
        (("flavor name", FLAVORS), ("size", PACKS)),
        (7, 35),
    ),
    _t(
        "furniture",
        f"{_HOME} › Home Office",
        "office chair",
        "office chair",
        "Office Chair|Desk Chair|Ergonomic Chair",
        "lumbar support|adjustable height|swivel base|breathable mesh|padded armrests|"
        "easy assembly|heavy duty|tilt lock",
        (_C,),
        (60, 300),
    ),
    _t(
        "furniture",
        f"{_HOME} › Bedroom › Beds",
        "bed frame",
        "bed frame",
        "Platform Bed Frame|Metal Bed Frame|Upholstered Bed",
        "easy assembly|noise free|under bed storage|solid wood slats|no box spring needed|"
        "sturdy frame|headboard included|heavy duty",
        (_C, ("size", BED_SIZES)),
        (90, 450),
    ),
    _t(
        "furniture",
        f"{_HOME} › Living Room",
        "coffee table",
        "coffee table",
        "Coffee Table|Lift Top Table|Round Cocktail Table",
        "storage shelf|easy assembly|solid wood|scratch resistant|engineered wood|"
        "hidden compartment|sturdy legs|easy clean",
        (_C, ("style", STYLES)),
        (45, 260),
    ),
    _t(
        "furniture",
        f"{_HOME} › Living Room › Shelves",
        "bookshelf",
        "bookshelf",
        "Bookshelf|Bookcase|Ladder Shelf",
        "open shelves|wall anchor|easy assembly|space saving|metal frame|display rack|"
        "storage space|stable base",
        (_C, ("style", STYLES)),
        (40, 220),
    ),
    _t(
        "furniture",
        "Home & Kitchen › Lighting › Floor Lamps",
        "floor lamp",
        "floor lamp",
        "Floor Lamp|Arc Floor Lamp|Standing Lamp",
        "dimmable light|foot switch|energy saving|tall pole|reading light|remote control|"
        "linen shade|stable base",
        (_C, ("style", STYLES)),
        (30, 180),
    ),
    _t(
        "sports",
        f"{_SPORT} › Yoga",
        "yoga mat",
        "yoga mat",
        "Yoga Mat|Exercise Mat|Pilates Mat",
        "non slip|extra thick|carrying strap|eco friendly|sweat resistant|lightweight|"
        "easy clean|joint support",
        (_C,),
        (15, 80),
    ),
    _t(
        "sports",
        "Sports & Outdoors › Hydration",
        "water bottle",
        "water bottle",
        "Water Bottle|Insulated Bottle|Sports Bottle",
        "bpa free|leak proof|double wall|dishwasher safe|wide mouth|keeps drinks cold|"
        "carry handle|straw lid",
        (_C, ("size", ("12 oz", "18 oz", "24 oz", "32 oz", "40 oz"))),
        (10, 50),
    ),
    _t(
        "sports",
        f"{_SPORT} › Strength Training",
        "resistance bands",
        "resistance bands",
        "Resistance Bands|Exercise Bands|Loop Bands",
        "home workout|latex free|door anchor|carry bag|multiple levels|physical therapy|"
        "anti snap|full body",
        (_C,),
        (9, 45),
    ),
    _t(
        "sports",
        "Sports & Outdoors › Camping › Tents",
        "camping tent",
        "camping tent",
        "Camping Tent|Dome Tent|Backpacking Tent",
        "easy setup|rain fly|waterproof floor|mesh windows|carry bag|instant setup|"
        "double layer|storage pockets",
        (_C, ("size", ("2 person", "4 person", "6 person"))),
        (45, 260),
    ),
    _t(
        "sports",
        f"{_SPORT} › Cardio",
        "jump rope",
        "jump rope",
        "Jump Rope|Speed Rope|Weighted Jump Rope",
        "adjustable length|ball bearings|tangle free|foam handles|fitness training|"
        "steel cable|anti slip grip|portable design",
        (_C,),
        (6, 30),
    ),
)

BRANDS = words(
    "Aldera Brightwell Cobalto Dunmore Everhart Fennick Galloway Harlow Isola Juniper "
    "Kestrel Larkspur Meridian Northvale Oakmere Pellam Quillon Rowan Solvig Tamsin "
    "Umbra Vantor Wexley Yarrow Zephyra Ambrin Belcourt Calloway Darrow Elwood"
)

FILLERS = (
    "Built for everyday use and made to last",
    "A thoughtful pick for home, travel and gifting",
    "Backed by friendly customer support",
    "Quality checked before it leaves our workshop",
    "Designed with comfort and ease in mind",
    "Simple to use right out of the box",
)

REVIEW_TEXTS = (
    ("Exactly what I wanted", 5, "Works as described and arrived quickly."),
    ("Pretty good", 4, "Happy with it overall, would buy again."),
    ("It is okay", 3, "Does the job but nothing special."),
    ("Not for me", 2, "Did not meet my expectations."),
    ("Great value", 5, "Good quality for the price."),
)

OPENERS = (
    "i need",
    "i am looking for",
    "i'm looking for",
    "i want",
    "i would like",
    "find me",
    "get me",
    "i want to buy",
    "looking for",
)
