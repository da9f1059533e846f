"""A small labelled set for late chunking: 30 long documents (300 to 500 MiniLM tokens each)
about invented towns, firms and people, written for this benchmark.

Each document names its subject in its first sentences and then refers back to it by pronoun
or short name ("it", "the town", "she", "the firm"). Its query names the subject and asks for
a fact that only a later sentence holds (``answer``, a sentence of the text that does not name
the subject); the documents of one kind share their vocabulary (every town has a harbour and a
festival, every firm a factory and a rival), so a chunk cut away from its document's name
cannot tell whose fact it is. The chunks that overlap ``answer`` are the ones a query should
find.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LongDocument:
    name: str
    text: str
    query: str
    #: the sentence of ``text`` that answers ``query``
    answer: str


#: per kind, three more paragraphs every document of that kind gets, told of its subject only
#: as "the town", "it", "she"...: one after the opening paragraph (so later facts sit further
#: from the name), two at the end. Their details are the document's own (``_DETAILS``).
_SHARED = {
    "town": (
        "The town's records, kept in the vestry since {year_a}, list its mayors and its floods. "
        "They show that it was never large: in its busiest years it had perhaps {number} "
        "households, most of them along the water or the main road. They also name {person}, "
        "who served as its clerk for forty years and wrote much of what is known of its past.",
        "Like many places of its size, the town has lost its bank, its cinema and most of its "
        "shops in recent decades, as a supermarket outside {place} took the trade. Its people "
        "still fill the pubs on a Friday, and the primary school has been saved twice by local "
        "campaigns. A bus runs to {place} every hour, and less often on Sundays.",
        "In {year_b} a history society was formed to record the memories of its oldest "
        "people. Its members, led by {person2}, collected photographs, letters and maps, and "
        "published a short history of the place that sold out in a month. A second edition is "
        "planned, with a chapter on the years after the war and a new map of the streets.",
    ),
    "firm": (
        "The firm's ledgers, which survive from {year_a}, show how carefully it watched its "
        "costs. Every purchase was entered by hand, and the wages of its {number} workers were "
        "paid in cash each Friday. {person}, its chief clerk for thirty years, kept them in a "
        "copperplate hand that historians still admire, with notes on the weather in the margin.",
        "Like most family companies of its time, it looked after its workers in its own way. "
        "It built a row of cottages near {place}, paid for a reading room and a band, and gave "
        "each worker a goose at Christmas. Strikes were rare, though one in {year_b} lasted six "
        "weeks and ended with a small rise in pay and a shorter Saturday.",
        "Its old advertisements are now collected for their bright colours and bold slogans. "
        "Posters that once hung in railway stations sell for hundreds, and a book of them was "
        "published by {person2} in {year_c}. The company's archive, with its catalogues and "
        "price lists, was given to the county record office, where anyone may read it.",
    ),
    "person": (
        "Little is known of {poss} childhood beyond a few letters. A teacher named {person} "
        "remembered {obj} as quiet but stubborn, always asking why things worked as they did. "
        "The family moved house {number} times before {subj} was twelve, following work, and "
        "money was often short; the children slept three to a bed in the winters.",
        "Friends described {obj} as generous with time and impatient with flattery. {Subj} "
        "kept a diary for most of {poss} life, and its volumes, now in {place}, are full of "
        "sketches, lists and sharp remarks about visitors. {Subj} liked long walks before "
        "breakfast and spent most evenings reading or writing letters to old friends.",
        "In {year_b} a biography by {person2} brought {poss} life to a wider public, and a "
        "television film followed. Some of its claims have since been questioned, but it made "
        "{obj} known to a new generation. Letters and papers still turn up in attics and sale "
        "rooms, and each find adds a little to the story.",
    ),
}
_PRONOUNS = {
    "she": {"subj": "she", "Subj": "She", "obj": "her", "poss": "her"},
    "he": {"subj": "he", "Subj": "He", "obj": "him", "poss": "his"},
}


def _doc(name: str, query: str, answer: str, *paragraphs: str) -> LongDocument:
    kind, details = _DETAILS[name]
    values = {**details, **_PRONOUNS.get(str(details.get("pronoun")), {})}
    first, after, last = (p.format(**values) for p in _SHARED[kind])
    text = "\n\n".join([paragraphs[0], first, *paragraphs[1:], after, last])
    if answer not in text or name in answer:
        raise ValueError(f"{name}: the answer must be a sentence of the text, not naming it")
    return LongDocument(name, text, query, answer)


def _town(
    year_a: int, number: int, person: str, place: str, year_b: int, person2: str
) -> tuple[str, dict[str, object]]:
    return "town", dict(
        year_a=year_a, number=number, person=person, place=place, year_b=year_b, person2=person2
    )


def _firm(
    year_a: int, number: int, person: str, place: str, year_b: int, person2: str, year_c: int
) -> tuple[str, dict[str, object]]:
    return "firm", dict(
        year_a=year_a,
        number=number,
        person=person,
        place=place,
        year_b=year_b,
        person2=person2,
        year_c=year_c,
    )


def _person(
    pronoun: str, person: str, number: str, place: str, year_b: int, person2: str
) -> tuple[str, dict[str, object]]:
    return "person", dict(
        pronoun=pronoun, person=person, number=number, place=place, year_b=year_b, person2=person2
    )


_DETAILS: dict[str, tuple[str, dict[str, object]]] = {
    "Varnholm": _town(1540, 300, "Piet Halloran", "Osterford", 1977, "June Abernethy"),
    "Keldmoor": _town(1602, 450, "Walter Greaves", "Hallam", 1969, "Dora Pike"),
    "Port Ellery": _town(1688, 250, "Josiah Trembath", "Penvale", 1981, "Ivy Rowe"),
    "Dunmarrow": _town(1711, 600, "Evan Pritchard", "Carrick Bridge", 1958, "Gwen Howells"),
    "Saltby Cross": _town(1575, 350, "Hugh Ashby", "Wendham", 1973, "Leonard Crisp"),
    "Greywater": _town(1650, 900, "Martha Kell", "Lakehead", 1966, "Arthur Pym"),
    "Ashcombe": _town(1598, 400, "Francis Lyle", "Downbury", 1985, "Cecily Ware"),
    "Holt Marsh": _town(1661, 280, "Cornelis Vos", "Fenwick", 1979, "Ruth Gedney"),
    "Brennock": _town(1620, 520, "Richard Polglase", "St Ruan", 1962, "Morwenna Nance"),
    "Caddon Bay": _town(1702, 330, "Samuel Quick", "Exmere", 1990, "Peggy Lander"),
    "Tallow & Finch": _firm(1831, 400, "Amos Wragg", "Mercham", 1889, "Dennis Hurd", 1983),
    "Norvale Motors": _firm(1910, 650, "Percy Nuttall", "Riverside", 1926, "Sheila Dunn", 1991),
    "Hollins Glassworks": _firm(1772, 120, "Jonas Bright", "Hollins Vale", 1851, "Mary Tate", 1979),
    "Wexley Biscuits": _firm(1856, 800, "Elias Penrose", "Wexley", 1911, "Carol Betts", 1997),
    "Corran Shipping": _firm(1884, 300, "Neil Corran", "the estuary", 1911, "Tom Yelland", 1988),
    "Pellbrook Pianos": _firm(
        1860, 450, "Joseph Lamb", "the high street", 1898, "Agatha Dale", 1975
    ),
    "Ardent Telegraph": _firm(1852, 700, "Harold Venn", "the capital", 1866, "Owen Clare", 1970),
    "Brightwater Mills": _firm(
        1840, 550, "Nathan Royd", "the river", 1892, "Lucy Stansfield", 1994
    ),
    "Lumen Lamp Company": _firm(
        1895, 900, "Ada Pennock", "the midlands", 1920, "Victor Hume", 1986
    ),
    "Kestrel Aircraft": _firm(1921, 350, "Len Harker", "the airfield", 1937, "Joan Mercer", 1999),
    "Edith Marlowe": _person(
        "she", "Miss Ruddock", "three", "the county archive", 1984, "Helen Tasker"
    ),
    "Tomas Reyne": _person("he", "Father Anselm", "two", "the city library", 1961, "Karel Mertens"),
    "Agnes Colville": _person(
        "she", "Mr Dobbs", "four", "the medical college", 1993, "Frances Lowe"
    ),
    "Henrik Osterby": _person("he", "Pastor Lind", "two", "the maritime museum", 1958, "Nils Berg"),
    "Clara Wendt": _person(
        "she", "Fräulein Haas", "five", "the aviation museum", 1989, "Petra Voss"
    ),
    "Oswin Carrow": _person("he", "Mr Price", "three", "the miners' library", 1980, "Dylan Rees"),
    "Mira Santell": _person(
        "she", "Madame Roux", "two", "the university library", 1996, "Anne Moreau"
    ),
    "Benedict Hale": _person("he", "the vicar", "four", "the railway museum", 1972, "George Fenn"),
    "Ingrid Solberg": _person(
        "she", "the organist", "three", "the national library", 1974, "Kari Haugen"
    ),
    "Rufus Penhallow": _person("he", "Mrs Trewin", "six", "the town museum", 1968, "Alan Jory"),
}


TOWNS = [
    _doc(
        "Varnholm",
        "When did Varnholm's harbour stop taking ships?",
        "The harbour closed to shipping in 1962, after the river mouth had silted up for good.",
        "Varnholm is a small town on the northern bank of the river Oster, about forty "
        "kilometres from the coast. It was founded in the twelfth century as a ferry crossing, "
        "and its first church was built of timber on the hill above the landing.",
        "For three hundred years the town lived from salt and herring. Barges carried salt down "
        "the Oster, and the fishing boats brought their catch back up to be smoked in long "
        "sheds by the water. The smokehouses gave the place a smell that travellers wrote about.",
        "In the nineteenth century a railway line reached the valley, and the old trades "
        "declined. The harbour closed to shipping in 1962, after the river mouth had silted up "
        "for good. Most of the warehouses along the quay were later turned into flats.",
        "Today the town is known for its autumn lantern festival, when children carry paper "
        "lanterns through the lanes to the river. It also keeps a small museum of fishing "
        "tools, open on weekends, and a rowing club that races every June.",
    ),
    _doc(
        "Keldmoor",
        "What destroyed the old market hall of Keldmoor?",
        "A fire that began in a bakery in 1874 burned the old market hall to the ground.",
        "Keldmoor is a market town in the upland sheep country, built where three drove roads "
        "meet. Its charter to hold a weekly market dates from 1301, and farmers still bring "
        "lambs to its pens every Tuesday in spring.",
        "The town grew rich on wool. Merchants built tall stone houses around the square, and "
        "a guild of weavers ran the looms in the narrow streets behind them. Cloth from the "
        "valley was sold as far away as the southern ports.",
        "A fire that began in a bakery in 1874 burned the old market hall to the ground. The "
        "hall that stands today was built four years later in red brick, with a clock tower "
        "paid for by the weavers' guild. Its bell still rings at noon on market days.",
        "In summer the town holds a sheepdog trial on the common, and walkers use it as a base "
        "for the hills to the west. The harbour it once shared with a neighbouring village is "
        "long gone, but the drove roads are now footpaths.",
    ),
    _doc(
        "Port Ellery",
        "Which ship sank near Port Ellery in the storm?",
        "During the great storm of 1908 the steamer Halcyon struck the reef outside the "
        "breakwater and sank with her cargo of coal.",
        "Port Ellery is a fishing town at the end of a long peninsula, facing the open sea. It "
        "began as a cluster of huts around a sheltered cove, and a stone breakwater was built "
        "in 1820 to protect the boats from the western gales.",
        "The town's boats fished for cod and mackerel, and its women mended nets on the "
        "harbour wall. A lifeboat station was opened in 1867, and its crews have been called "
        "out thousands of times since then.",
        "During the great storm of 1908 the steamer Halcyon struck the reef outside the "
        "breakwater and sank with her cargo of coal. The lifeboat saved nineteen of her crew. "
        "Her boiler can still be seen at the lowest tides.",
        "Since the fishing declined, the town has lived mostly from visitors. Its harbour "
        "festival in August fills the quay with music stalls, and a small aquarium shows the "
        "fish of the reef. The old net lofts are now studios for painters.",
    ),
    _doc(
        "Dunmarrow",
        "What was the main industry of Dunmarrow in the 1800s?",
        "Through the 1800s most of its people worked in the slate quarries on the mountain.",
        "Dunmarrow lies in a steep valley under Mount Carrick, beside a fast stream that never "
        "freezes. The town was a handful of farms until the middle of the eighteenth century, "
        "when a road was cut through the pass.",
        "Through the 1800s most of its people worked in the slate quarries on the mountain. "
        "Slate from the valley roofed houses across the country, and the terraces of quarry "
        "workers' cottages still climb the slope in rows.",
        "The quarries closed one by one after the Second World War. A chapel, a brass band and "
        "a choir remain from those years, and the choir still sings at the harbour of the "
        "nearest city every Christmas. The town's festival of song is held each May.",
        "Today the old incline railway carries visitors up to the highest quarry, where a "
        "museum shows the tools and the dangers of the work. Climbers come for the cliffs the "
        "quarrymen left behind.",
    ),
    _doc(
        "Saltby Cross",
        "Who designed the bridge at Saltby Cross?",
        "The iron bridge that replaced it in 1839 was designed by the engineer Maud Ferrers.",
        "Saltby Cross grew up at a ford on the river Wend, on the old road between two "
        "cathedral cities. A stone cross marked the ford, and pilgrims rested at an inn that "
        "still serves meals under its low beams.",
        "For centuries the crossing was a wooden bridge that the floods carried away every few "
        "decades. The iron bridge that replaced it in 1839 was designed by the engineer Maud "
        "Ferrers. It was one of the first of its kind to have no pier in the water.",
        "The town prospered as a coaching stop, with stables for a hundred horses. When the "
        "railway took the traffic away, it turned to brewing, and two breweries still work by "
        "the river. A beer festival is held on the meadow in October.",
        "Its harbour for river barges is now a marina, and the old toll house at the end of "
        "the bridge has become a small café for walkers on the river path.",
    ),
    _doc(
        "Greywater",
        "What happened to the population of Greywater when the mill closed?",
        "When the last mill shut in 1931, nearly half of the people left within ten years.",
        "Greywater is a mill town at the head of a long lake, ringed by wooded hills. Its name "
        "comes from the colour of the lake under the winter cloud, and its oldest street "
        "follows the shore.",
        "Cotton mills were built along the outflow of the lake from 1790, using the water to "
        "turn their wheels. The town filled with workers from the farms around it, and rows of "
        "brick houses went up around the mills.",
        "When the last mill shut in 1931, nearly half of the people left within ten years. "
        "The empty mills stood for decades, and some were pulled down. One of them is now a "
        "school, and another holds a market every Saturday.",
        "Boats for hire and a steamer on the lake bring visitors in summer. A regatta is held "
        "on the water each July, and the town's festival of lights ends the season in "
        "September with lanterns floating on the harbour.",
    ),
    _doc(
        "Ashcombe",
        "Why is Ashcombe's church tower leaning?",
        "Its tower leans to the south because the builders dug its footings into soft clay.",
        "Ashcombe is a village that became a small town when the spa opened in 1780. It sits "
        "in a hollow of the chalk hills, around a spring whose warm water was said to cure "
        "the joints.",
        "The church of St Anne is older than the spa by four centuries. Its tower leans to the "
        "south because the builders dug its footings into soft clay. Iron bands were fitted "
        "around it in 1911 to stop the lean from growing.",
        "The pump room and the assembly rooms drew fashionable visitors in the spa's best "
        "years, and terraces of tall houses were built for them. The spa closed in 1950, when "
        "the spring began to fail.",
        "Today the town has a music festival in the old assembly rooms, and a market in the "
        "square. There is no harbour, but a canal basin on its edge is busy with narrow boats "
        "in summer.",
    ),
    _doc(
        "Holt Marsh",
        "How did Holt Marsh drain its land?",
        "Dutch engineers dug the long drains and built the pumping mills that still keep "
        "the fields dry.",
        "Holt Marsh is a town on the flat fen country near the eastern coast, barely above the "
        "level of the sea. For most of its history it was an island of firm ground among reeds "
        "and shallow meres.",
        "In 1652 Dutch engineers dug the long drains and built the pumping mills that still "
        "keep the fields dry. The rich black soil they won from the water made the town a "
        "centre for growing vegetables and tulips.",
        "Floods broke through the sea wall in 1953 and covered the town for two weeks. It was "
        "rebuilt with a higher wall, and the flood line is marked on the church door.",
        "The town holds a tulip festival every April, when the fields around it turn red and "
        "yellow. A small harbour on the creek serves sailing boats, and an old pumping mill "
        "is open to visitors.",
    ),
    _doc(
        "Brennock",
        "What did the mine at Brennock produce?",
        "Its mine produced tin for nearly two centuries, from deep shafts under the moor.",
        "Brennock is a town on a granite moor in the far west, known for its grey stone "
        "houses and its wide main street. Its name is older than any record of it, and may "
        "come from a word for a hill.",
        "Its mine produced tin for nearly two centuries, from deep shafts under the moor. The "
        "engine houses that pumped water from the shafts still stand on the skyline, roofless, "
        "with their tall chimneys.",
        "When the price of tin fell in the 1890s, many miners left for mines overseas, and "
        "the town lost a third of its people. A silver band founded by the miners in 1860 "
        "still plays in the square at the midsummer festival.",
        "Walkers now cross the moor to the stone circles above the town, and the old count "
        "house of the mine is a library. The nearest harbour is in the next valley.",
    ),
    _doc(
        "Caddon Bay",
        "Which famous building stands on the cliff at Caddon Bay?",
        "On the cliff above the bay stands a white lighthouse, built in 1791 and still lit "
        "every night.",
        "Caddon Bay is a town on a wide sandy bay on the southern coast, sheltered by two "
        "headlands. Smugglers used its caves in the eighteenth century, and stories of them "
        "are still told in its inns.",
        "On the cliff above the bay stands a white lighthouse, built in 1791 and still lit "
        "every night. Its keepers left in 1985, when the light was made automatic, and their "
        "cottages are now let to visitors.",
        "The town became a resort when the railway arrived in 1870, and hotels lined the "
        "front. A pier was built out into the bay, but storms destroyed its end twice, and "
        "only half of it remains.",
        "The harbour is used by crab boats and pleasure craft. A festival of the sea is held "
        "every August, with races for rowing gigs across the bay.",
    ),
]

FIRMS = [
    _doc(
        "Tallow & Finch",
        "Where did Tallow & Finch build its first factory?",
        "Its first factory was built beside the canal in Mercham, where coal came in by barge.",
        "Tallow & Finch is a maker of soap and candles founded in 1823 by two brothers-in-law, "
        "Edwin Tallow and Robert Finch. They began by boiling fat in a shed behind a "
        "chandler's shop.",
        "Its first factory was built beside the canal in Mercham, where coal came in by barge. "
        "By 1860 the firm employed four hundred people and sold its soap across the country "
        "in paper wrappers printed with a finch.",
        "A fire in the works in 1902 nearly ruined the company, but it rebuilt in concrete and "
        "came back with a new scented range. Its great rival, a soap maker from the north, "
        "bought up many smaller firms in those years.",
        "The company was sold in 1968 to a chemicals group, which kept the name for its "
        "candles. The canal works closed in 1990 and are now offices.",
    ),
    _doc(
        "Norvale Motors",
        "What was the name of Norvale Motors' first car?",
        "The first car it sold, in 1912, was a two-seater called the Sparrow.",
        "Norvale Motors was founded in 1908 by Alice Norvale, who had built bicycles and "
        "motorcycles in a workshop by the river. She believed a small car could be made cheaply "
        "enough for doctors and farmers.",
        "The first car it sold, in 1912, was a two-seater called the Sparrow. It had a "
        "four-cylinder engine and a body of ash wood and aluminium, and more than two thousand "
        "were made in its first three years.",
        "During the war the factory made lorries and aircraft engines. After it, the firm "
        "struggled against bigger rivals with faster production lines, and in 1934 it was "
        "bought by a larger carmaker.",
        "The name was dropped in 1951. A few Sparrows survive in museums, and a club of owners "
        "meets each summer at the old factory gates.",
    ),
    _doc(
        "Hollins Glassworks",
        "What made Hollins Glassworks famous?",
        "It became famous for its blue glass, coloured with cobalt from a mine in the hills.",
        "Hollins Glassworks was started in 1768 by Thomas Hollins in a valley where sand and "
        "wood were both plentiful. Its cone-shaped furnace house still stands, the last of "
        "its kind in the district.",
        "It became famous for its blue glass, coloured with cobalt from a mine in the hills. "
        "Bottles, bowls and chemists' jars in that deep blue were sold across Europe, and "
        "collectors still prize them.",
        "In the nineteenth century the works moved to coal-fired furnaces and machine-made "
        "bottles, and the old craft of hand blowing nearly died out. A rival works across the "
        "valley made clear window glass.",
        "The firm closed in 1957. Its furnace house is now a museum where glassblowers show "
        "their skill, and the factory shop sells copies of the old blue bottles.",
    ),
    _doc(
        "Wexley Biscuits",
        "Who bought Wexley Biscuits?",
        "In 1972 it was bought by an American food company, which moved the baking abroad.",
        "Wexley Biscuits began in 1849 as a bakery in the port of Wexley, making hard ship's "
        "biscuits for sailors. The founder, Hannah Pryce, sold them by the barrel to captains "
        "at the quay.",
        "Sweet biscuits followed in the 1870s, and a tin with a picture of the harbour became "
        "the firm's mark. A large factory was built by the railway station in 1888, with its "
        "own bakehouse and tin works.",
        "The company grew through the twentieth century, competing with two other biscuit "
        "makers of the region. In 1972 it was bought by an American food company, which moved "
        "the baking abroad.",
        "The factory was pulled down in 1985. Its clock tower was kept and stands in a new "
        "square, and old biscuit tins are sold at high prices at auctions.",
    ),
    _doc(
        "Corran Shipping",
        "What happened to Corran Shipping's flagship?",
        "The company's flagship was requisitioned in 1940 and sunk by a mine off the coast.",
        "Corran Shipping was founded in 1881 by the Corran family, who owned a timber yard on "
        "the estuary. They bought a single steamer to carry their timber and soon carried "
        "other goods as well.",
        "By 1914 the line ran twenty ships between the home ports and the Baltic, carrying "
        "timber, grain and passengers. Its ships had red funnels with a white band, and its "
        "offices stood on the quay.",
        "The company's flagship was requisitioned in 1940 and sunk by a mine off the coast. "
        "Half of the fleet was lost in the war, and the line never fully recovered against "
        "its rivals.",
        "It was merged with a larger line in 1965, and its name disappeared from the funnels. "
        "Its old office on the quay is now a maritime museum.",
    ),
    _doc(
        "Pellbrook Pianos",
        "Why did Pellbrook Pianos close?",
        "Cheap imported instruments and the rise of radio emptied its order book, and it "
        "closed in 1936.",
        "Pellbrook Pianos was founded in 1852 by Samuel Pellbrook, a cabinet maker who had "
        "learned to build keyboards in Vienna. His first workshop was above a furniture shop "
        "on the high street.",
        "The firm grew with the fashion for a piano in every parlour. By 1900 its factory made "
        "three thousand upright pianos a year, and its grand pianos were played in concert "
        "halls across the country.",
        "Cheap imported instruments and the rise of radio emptied its order book, and it "
        "closed in 1936. Its rival in the same town survived by making organs for cinemas.",
        "Pellbrook uprights are still found in schools and chapels, and tuners say their "
        "frames hardly ever crack. The factory building became a furniture store.",
    ),
    _doc(
        "Ardent Telegraph",
        "Which cable did Ardent Telegraph lay?",
        "Its greatest work was the cable laid across the northern sea in 1869, linking the "
        "islands to the mainland.",
        "Ardent Telegraph was founded in 1850, when the electric telegraph was new, by a group "
        "of merchants who wanted faster news of prices. Its first line ran along a railway "
        "between two cities.",
        "Its greatest work was the cable laid across the northern sea in 1869, linking the "
        "islands to the mainland. The cable ship took three attempts, as the first two cables "
        "snapped in storms.",
        "The company built hundreds of telegraph offices, and its messenger boys in grey "
        "uniforms were a common sight. A rival firm owned the lines in the south.",
        "In 1870 the telegraphs were taken over by the state, and the firm was bought out. "
        "Its cable factory went on making electrical wire for another century.",
    ),
    _doc(
        "Brightwater Mills",
        "What did Brightwater Mills make during the war?",
        "During the war the looms were turned over to parachute silk and uniform cloth.",
        "Brightwater Mills was a weaving company founded in 1835 on a river in the wool "
        "country. Its founder, Isaac Thorne, named it after the clear water that drove its "
        "first wheel.",
        "The company made fine worsted cloth for suits, and its mark, a heron, was woven into "
        "the selvedge of every roll. Its tall mill had six floors of looms and a chimney that "
        "could be seen for miles.",
        "During the war the looms were turned over to parachute silk and uniform cloth. After "
        "it, orders for worsted fell as fashions changed, and a rival mill in the next valley "
        "took much of what was left.",
        "The firm closed in 1979. The mill has been turned into flats, and the heron mark can "
        "still be seen carved above the gate.",
    ),
    _doc(
        "Lumen Lamp Company",
        "Where did the Lumen Lamp Company move its headquarters?",
        "In 1927 the head office moved to a new tower in the capital, with its name in lights "
        "on the roof.",
        "The Lumen Lamp Company was founded in 1891 to make electric light bulbs, a few years "
        "after the first power stations opened. Its founder, Grace Ashdown, had trained as a "
        "chemist.",
        "The firm's bulbs lasted longer than most because of a filament it had patented, and "
        "it sold them to railways and ships. Its factory stood on the edge of an industrial "
        "town in the midlands.",
        "In 1927 the head office moved to a new tower in the capital, with its name in lights "
        "on the roof. A rival maker sued over the filament patent and lost.",
        "The company was broken up in 1961 by an order against price fixing. Its tower still "
        "stands and is now a hotel.",
    ),
    _doc(
        "Kestrel Aircraft",
        "What was Kestrel Aircraft's best-known plane?",
        "Its best-known design was the Kite, a light trainer on which thousands of pilots "
        "learned to fly.",
        "Kestrel Aircraft was started in 1919 by two former wartime pilots, Jack Mallory and "
        "Ruth Keane, in a hangar on a grass airfield. They began by repairing old aircraft and "
        "giving joyrides.",
        "Its best-known design was the Kite, a light trainer on which thousands of pilots "
        "learned to fly. The biplane was cheap to run and forgiving of mistakes, and flying "
        "clubs bought it in large numbers.",
        "The company built bombers under licence during the war but never won a large order "
        "of its own. After it, jets made its designs old-fashioned, and a rival bought it in "
        "1958.",
        "A few Kites still fly at air shows, and the old hangar is the home of a flying club.",
    ),
]

PEOPLE = [
    _doc(
        "Edith Marlowe",
        "What did Edith Marlowe discover?",
        "Her best-known discovery was a comet she found in 1889 from the roof of her house.",
        "Edith Marlowe was born in 1861 in a coastal town, the daughter of a ship's chandler. "
        "She taught herself mathematics from her father's navigation books and later studied "
        "at a women's college.",
        "She worked for years as a computer at an observatory, measuring the positions of "
        "stars on photographic plates. Her best-known discovery was a comet she found in 1889 "
        "from the roof of her house.",
        "She was the first woman to be given the medal of the astronomical society, in 1903, "
        "though the society did not yet let women become members. She wrote a popular book "
        "about the night sky.",
        "In later life she lived quietly by the sea and gave lectures to schools. She died in "
        "1938, and a crater on the moon bears her name.",
    ),
    _doc(
        "Tomas Reyne",
        "Where did Tomas Reyne study painting?",
        "He studied painting in Antwerp, where he learned to paint light on water.",
        "Tomas Reyne was born in 1832 in a village of flax farmers, the youngest of seven "
        "children. As a boy he drew boats on the walls of his father's barn with charcoal.",
        "A local priest paid for his lessons. He studied painting in Antwerp, where he learned "
        "to paint light on water. Back home he painted the fishermen of the coast and the "
        "women who waited for them.",
        "His large painting of a storm at sea won a gold medal at an exhibition in 1867, and "
        "made him famous. He was asked to paint portraits of rich merchants, which he did "
        "without much love.",
        "He died in 1894. A museum of his work opened in his village in 1950, in the barn "
        "where he had first drawn.",
    ),
    _doc(
        "Agnes Colville",
        "What disease did Agnes Colville fight?",
        "She spent twenty years fighting cholera in the crowded districts by the docks.",
        "Agnes Colville was born in 1848 in a mill town, the daughter of a doctor. She wanted "
        "to be a doctor herself, but no medical school would take her, so she trained as a "
        "nurse.",
        "She spent twenty years fighting cholera in the crowded districts by the docks. She "
        "showed that the disease followed the water from certain pumps, and persuaded the town "
        "to build new drains.",
        "In 1876 she was at last allowed to qualify in medicine, abroad, and she opened a "
        "clinic for women and children. Her reports on housing were read in parliament.",
        "She died in 1921. A hospital was named after her, and her notebooks are kept in the "
        "library of the medical college.",
    ),
    _doc(
        "Henrik Osterby",
        "Which instrument did Henrik Osterby invent?",
        "He invented a pocket barometer that sailors could carry and read at a glance, and "
        "sold it from the shop.",
        "Henrik Osterby was born in 1797 in a harbour town on the northern coast. His father "
        "made clocks, and the boy learned to work brass and glass in the family shop.",
        "As a young man he went to sea as a ship's carpenter and saw how often storms came "
        "without warning. He invented a pocket barometer that sailors could carry and read at "
        "a glance, and sold it from the shop.",
        "The navy ordered his instruments in 1835, and he opened a workshop with twenty men. "
        "He was elected to the royal society of sciences for a paper on the weather.",
        "He died in 1862. Some of his barometers still work, and one hangs in the maritime "
        "museum of his town.",
    ),
    _doc(
        "Clara Wendt",
        "Where did Clara Wendt make her first flight?",
        "Her first flight was made from a beach in 1911, in a plane she had built with her "
        "brother.",
        "Clara Wendt was born in 1889 in an inland city, the daughter of an engineer who built "
        "bridges. She was fascinated by kites and by the new flying machines she read about "
        "in the papers.",
        "Her first flight was made from a beach in 1911, in a plane she had built with her "
        "brother. It lasted less than a minute, but a photographer caught it, and the picture "
        "was printed across the country.",
        "She became the first woman in her country to hold a pilot's licence, and she flew in "
        "races and shows. During the war she taught young pilots to fly.",
        "She gave up flying after a crash in 1923 and wrote books about the early days of "
        "aviation. She died in 1970.",
    ),
    _doc(
        "Oswin Carrow",
        "What did Oswin Carrow write about?",
        "His novels were about the miners and their families in the valleys where he grew up.",
        "Oswin Carrow was born in 1903 in a mining valley, the son of a collier. He left "
        "school at thirteen to work underground, and read books by candlelight in his breaks.",
        "His novels were about the miners and their families in the valleys where he grew up. "
        "The first of them, published in 1931, sold badly, but the second was a success and "
        "was made into a film.",
        "He was injured in a roof fall in 1935 and never went underground again. He wrote for "
        "newspapers and spoke on the radio about the lives of working people.",
        "He died in 1977. His house is now a small library, and a prize for young writers is "
        "given in his name each year.",
    ),
    _doc(
        "Mira Santell",
        "Which prize did Mira Santell win?",
        "She won the international prize for chemistry in 1934 for her work on crystals.",
        "Mira Santell was born in 1895 in a port city, the daughter of a glassmaker. She "
        "studied chemistry at the university there, one of only three women in her year.",
        "She used X-rays to study how atoms are arranged in crystals, and built her own "
        "apparatus in a basement laboratory. She won the international prize for chemistry in "
        "1934 for her work on crystals.",
        "During the war she worked on medicines and trained a generation of students, many of "
        "whom became professors. She refused to work on weapons.",
        "She died in 1969. A research institute carries her name, and her apparatus is shown "
        "in the science museum.",
    ),
    _doc(
        "Benedict Hale",
        "What did Benedict Hale build?",
        "His greatest work was the viaduct over the Tarne gorge, finished in 1858 after "
        "seven years.",
        "Benedict Hale was born in 1810 in a farming village, the son of a stonemason. He "
        "worked with his father on churches and bridges before he was twenty.",
        "He became an engineer for the railways as they spread across the country. His "
        "greatest work was the viaduct over the Tarne gorge, finished in 1858 after seven "
        "years.",
        "Many doubted that its tall brick arches would stand, but they still carry trains "
        "today. He also built tunnels and stations, and wrote a textbook on arches.",
        "He died in 1871 and was buried in his village, where a window in the church shows "
        "the viaduct.",
    ),
    _doc(
        "Ingrid Solberg",
        "Where did Ingrid Solberg collect her songs?",
        "She collected them on foot in the mountain farms of the north, writing them down "
        "from old singers.",
        "Ingrid Solberg was born in 1874 in a mountain parish, the daughter of a schoolmaster. "
        "She played the fiddle from childhood and learned the old songs of the valleys.",
        "Afraid that the songs would be forgotten, she set out to record them. She collected "
        "them on foot in the mountain farms of the north, writing them down from old singers. "
        "In twenty years she wrote down more than two thousand.",
        "Her collection was published in four volumes from 1910, and composers used its tunes "
        "in their music. She was given a state pension for her work in 1925.",
        "She died in 1952. Her notebooks are kept in the national library, and a festival of "
        "folk music is held each summer in her parish.",
    ),
    _doc(
        "Rufus Penhallow",
        "What was Rufus Penhallow's job before politics?",
        "Before politics he was a fisherman, like his father and grandfather before him.",
        "Rufus Penhallow was born in 1852 in a fishing village on the western coast. He left "
        "school at eleven, and could barely read until he taught himself as a young man.",
        "Before politics he was a fisherman, like his father and grandfather before him. He "
        "organised the fishermen of the coast to sell their catch together, and became known "
        "as a speaker at their meetings.",
        "He was elected to parliament in 1892, one of its first members from a working "
        "family. He fought for safer harbours and for pensions for old seamen.",
        "He died in 1919. A statue of him stands on the quay of his village, facing the sea.",
    ),
]

DOCUMENTS: list[LongDocument] = [*TOWNS, *FIRMS, *PEOPLE]
