# ruff: noqa: E501  (a data module: one passage a line reads better than wrapped strings)
"""The labelled retrieval set of ``python -m app.bench.quality``: 60 queries and 300
passages, written for this project on varied topics.

Each group is a query, the one passage that answers it, and four passages on the same topic
that do not (hard negatives: they share its words and subject, not its answer). Every passage
is in the corpus every query is searched against, so a query competes with 299 others. None
of these texts is in the quantization calibration set (app/models/calibration_texts.py).
"""

from __future__ import annotations

from typing import NamedTuple


class Group(NamedTuple):
    query: str
    answer: str
    others: tuple[str, str, str, str]


GROUPS: tuple[Group, ...] = (
    Group(
        "How long does it take light from the Sun to reach Earth?",
        "Sunlight travels about 150 million kilometres and arrives roughly eight minutes and twenty seconds after leaving the Sun.",
        (
            "The Sun is a yellow dwarf star about 4.6 billion years old.",
            "Sunspots are cooler, darker patches on the Sun's surface caused by magnetic activity.",
            "Light from the nearest star after the Sun, Proxima Centauri, takes over four years to arrive.",
            "Solar flares can disrupt radio communication and satellite navigation on Earth.",
        ),
    ),
    Group(
        "What is the main ingredient of guacamole?",
        "Guacamole is made by mashing ripe avocados with lime juice, salt, onion and coriander.",
        (
            "Salsa verde is a Mexican sauce of roasted tomatillos and green chillies.",
            "Tortilla chips are cut from corn tortillas and fried until crisp.",
            "Avocado trees are native to south-central Mexico and need frost-free winters.",
            "Pico de gallo is a fresh relish of chopped tomato, onion and jalapeño.",
        ),
    ),
    Group(
        "Why do leaves change colour in autumn?",
        "In autumn trees stop making chlorophyll, so the green fades and the yellow and orange pigments already in the leaf show through.",
        (
            "Evergreen conifers keep their needles through the winter.",
            "Maple syrup is made by boiling down the sap collected in early spring.",
            "Leaves are arranged on a stem in patterns that reduce shading of one another.",
            "Deciduous forests cover much of eastern North America and western Europe.",
        ),
    ),
    Group(
        "How many bones are in the adult human body?",
        "An adult human skeleton has 206 bones, fewer than a newborn's because several fuse during growth.",
        (
            "The femur, in the thigh, is the longest bone in the human body.",
            "Bone marrow produces red blood cells, white blood cells and platelets.",
            "Osteoporosis makes bones thin and brittle, especially in older women.",
            "The stapes in the middle ear is the smallest bone in the body.",
        ),
    ),
    Group(
        "Who invented the telephone?",
        "Alexander Graham Bell was granted the first US patent for the telephone in 1876.",
        (
            "Mobile phones became widespread in the 1990s as networks went digital.",
            "Morse code sends letters as patterns of short and long signals over a telegraph.",
            "Fibre-optic cables carry most long-distance telephone and internet traffic today.",
            "The rotary dial was replaced by push-button keypads in the 1960s and 1970s.",
        ),
    ),
    Group(
        "What is the largest ocean on Earth?",
        "The Pacific Ocean is the largest and deepest ocean, covering about a third of the planet's surface.",
        (
            "The Atlantic Ocean separates the Americas from Europe and Africa.",
            "Ocean currents such as the Gulf Stream carry warm water toward the poles.",
            "The Dead Sea is so salty that swimmers float without effort.",
            "Coral reefs grow best in warm, shallow and clear tropical water.",
        ),
    ),
    Group(
        "How do I convert Celsius to Fahrenheit?",
        "Multiply the temperature in Celsius by nine fifths and add 32 to get degrees Fahrenheit.",
        (
            "Absolute zero, zero kelvin, is the lowest temperature possible.",
            "A mercury thermometer measures temperature by the expansion of liquid metal.",
            "The Fahrenheit scale is still used for weather reports in the United States.",
            "Body temperature normally stays close to 37 degrees Celsius.",
        ),
    ),
    Group(
        "What does a Python decorator do?",
        "A decorator is a function that takes another function and returns a wrapped version, applied with the @ syntax above a definition.",
        (
            "Python uses indentation instead of braces to mark blocks of code.",
            "A generator yields values one at a time instead of building a whole list.",
            "Virtual environments keep each project's installed packages separate.",
            "Type hints in Python are checked by tools such as mypy, not at run time.",
        ),
    ),
    Group(
        "When was the printing press invented?",
        "Johannes Gutenberg built a printing press with movable metal type in Mainz around 1440.",
        (
            "Medieval monks copied manuscripts by hand in scriptoria.",
            "Paper was invented in China during the Han dynasty.",
            "The Gutenberg Bible is one of the most valuable books in the world.",
            "Offset lithography became the dominant commercial printing method in the twentieth century.",
        ),
    ),
    Group(
        "How often should I water a snake plant?",
        "Snake plants rot if kept wet: water them only when the soil has dried out completely, about every two to three weeks.",
        (
            "Snake plants tolerate low light and are popular in offices.",
            "Peace lilies droop visibly when they need water.",
            "Terracotta pots dry out faster than plastic pots because the clay is porous.",
            "Fiddle-leaf figs drop their leaves when moved to a new spot.",
        ),
    ),
    Group(
        "What causes tides?",
        "Tides are caused mainly by the Moon's gravity pulling on the oceans, with a smaller pull from the Sun.",
        (
            "A tsunami is a series of waves set off by an undersea earthquake.",
            "Surfers look for swells generated by distant storms.",
            "The Bay of Fundy in Canada is known for its very high tides.",
            "Sea level has risen about twenty centimetres since 1900.",
        ),
    ),
    Group(
        "What is the speed limit on German autobahns?",
        "Many stretches of the German autobahn have no general speed limit, only an advisory speed of 130 km/h.",
        (
            "Germany's first autobahn opened between Cologne and Bonn in 1932.",
            "Drivers in Germany must carry a warning triangle and a first-aid kit.",
            "Vignettes are road-tax stickers required on motorways in Austria and Switzerland.",
            "Trucks in Germany pay a toll based on distance travelled on motorways.",
        ),
    ),
    Group(
        "How does a refrigerator keep food cold?",
        "A refrigerator pumps a refrigerant that evaporates inside the cabinet, absorbing heat, and releases that heat through coils at the back.",
        (
            "Food should be stored below five degrees Celsius to slow bacterial growth.",
            "Before refrigerators, ice was cut from frozen lakes and stored in ice houses.",
            "A freezer should be defrosted when the ice layer is thicker than a centimetre.",
            "Energy labels rate refrigerators by their yearly electricity use.",
        ),
    ),
    Group(
        "Who was the first woman to win a Nobel Prize?",
        "Marie Curie won the Nobel Prize in Physics in 1903, the first woman to receive one, and later a second in Chemistry.",
        (
            "The Nobel Prizes were founded by the will of Alfred Nobel, the inventor of dynamite.",
            "Radium glows faintly and was once used in luminous watch dials.",
            "The Nobel Peace Prize is awarded in Oslo rather than Stockholm.",
            "Rosalind Franklin's X-ray images helped reveal the structure of DNA.",
        ),
    ),
    Group(
        "What is a black hole?",
        "A black hole is a region where gravity is so strong that nothing, not even light, can escape once it crosses the event horizon.",
        (
            "Neutron stars are the collapsed cores of massive stars, made almost entirely of neutrons.",
            "The Milky Way is a barred spiral galaxy about 100,000 light-years across.",
            "Telescopes in orbit avoid the blurring caused by Earth's atmosphere.",
            "A light-year is the distance light travels in one year.",
        ),
    ),
    Group(
        "How do I change a flat bicycle tyre?",
        "Lever the tyre off the rim, pull out the inner tube, fit a new or patched tube, then push the tyre back on and pump it up.",
        (
            "Road bikes have narrow tyres inflated to high pressure.",
            "A bicycle chain should be cleaned and oiled every few hundred kilometres.",
            "Disc brakes stop more reliably than rim brakes in the wet.",
            "Cycling to work is a cheap way to build exercise into the day.",
        ),
    ),
    Group(
        "What is the population of Japan?",
        "Japan has about 124 million people, and its population has been shrinking since the late 2000s.",
        (
            "Tokyo became Japan's capital in 1868 when the emperor moved from Kyoto.",
            "Japan is made up of four main islands and thousands of smaller ones.",
            "Cherry blossom season draws crowds to Japanese parks every spring.",
            "The shinkansen bullet train first ran between Tokyo and Osaka in 1964.",
        ),
    ),
    Group(
        "What are the symptoms of dehydration?",
        "Thirst, dark urine, headache, dizziness and tiredness are common signs that the body is short of water.",
        (
            "Adults are often advised to drink around two litres of fluid a day.",
            "Sports drinks contain salts and sugar as well as water.",
            "Heatstroke is a medical emergency in which body temperature rises above 40 degrees.",
            "Coffee counts toward daily fluid intake despite its mild diuretic effect.",
        ),
    ),
    Group(
        "How tall is the Eiffel Tower?",
        "The Eiffel Tower stands about 330 metres tall including its antennas.",
        (
            "Gustave Eiffel's company also built the internal frame of the Statue of Liberty.",
            "The Louvre is the most visited art museum in the world.",
            "Paris is divided into twenty administrative districts called arrondissements.",
            "The Arc de Triomphe honours those who fought for France in the Napoleonic wars.",
        ),
    ),
    Group(
        "What is the difference between weather and climate?",
        "Weather is the state of the atmosphere over hours or days; climate is the average pattern of weather over decades.",
        (
            "Meteorologists use weather balloons to measure the upper atmosphere.",
            "The Köppen system classifies the world's climates into five main groups.",
            "El Niño warms the eastern Pacific and shifts rainfall around the world.",
            "A barometer measures air pressure, which falls before a storm.",
        ),
    ),
    Group(
        "How do I make a cup of green tea properly?",
        "Steep green tea in water of about 70 to 80 degrees for two to three minutes; boiling water makes it bitter.",
        (
            "Black tea leaves are fully oxidised before drying, green tea leaves are not.",
            "Matcha is green tea ground into a fine powder and whisked into water.",
            "China and India are the world's largest tea producers.",
            "Earl Grey is black tea flavoured with oil of bergamot.",
        ),
    ),
    Group(
        "What is inflation?",
        "Inflation is the general rise of prices over time, which means each unit of money buys less.",
        (
            "A recession is commonly defined as two quarters of falling economic output.",
            "Central banks set short-term interest rates to steer the economy.",
            "Gross domestic product measures the value of everything a country produces.",
            "A currency's exchange rate is its price in terms of another currency.",
        ),
    ),
    Group(
        "How fast can a cheetah run?",
        "A cheetah can sprint at up to about 110 kilometres per hour, but only for a few hundred metres.",
        (
            "Cheetahs hunt mostly during the day, unlike lions and leopards.",
            "Lions live in groups called prides, usually led by related females.",
            "The African savanna is grassland dotted with acacia trees.",
            "Cheetah cubs have a mantle of long grey fur along their backs.",
        ),
    ),
    Group(
        "What is the function of the kidneys?",
        "The kidneys filter waste and excess water from the blood and turn them into urine.",
        (
            "The liver stores glycogen and breaks down toxins.",
            "Kidney stones are hard deposits of minerals that can be very painful to pass.",
            "The heart pumps about five litres of blood a minute at rest.",
            "A person can live a normal life with only one kidney.",
        ),
    ),
    Group(
        "Who wrote the play Romeo and Juliet?",
        "Romeo and Juliet is a tragedy written by William Shakespeare in the 1590s.",
        (
            "The Globe Theatre in London was rebuilt near its original site in 1997.",
            "Verona, the setting of the play, is a city in northern Italy.",
            "Christopher Marlowe wrote Doctor Faustus.",
            "West Side Story moved a famous tale of feuding families to New York.",
        ),
    ),
    Group(
        "What is the boiling point of water at sea level?",
        "At sea level pure water boils at 100 degrees Celsius, or 212 degrees Fahrenheit.",
        (
            "Salt dissolved in water raises its boiling point only slightly.",
            "A pressure cooker cooks faster because the water inside gets hotter before boiling.",
            "Water is densest at about four degrees Celsius.",
            "Steam burns can be worse than burns from boiling water.",
        ),
    ),
    Group(
        "How does compound interest work?",
        "With compound interest, the interest earned each period is added to the balance, so later interest is paid on earlier interest too.",
        (
            "A savings account is usually protected by a government deposit guarantee.",
            "Stocks are shares of ownership in a company.",
            "A budget tracks money coming in against money going out.",
            "Credit cards charge interest on balances not paid in full each month.",
        ),
    ),
    Group(
        "What language has the most native speakers?",
        "Mandarin Chinese has the most native speakers of any language, close to a billion.",
        (
            "English is the most widely studied foreign language in the world.",
            "Spanish is an official language in twenty countries.",
            "Chinese characters each stand for a syllable and usually a meaning.",
            "Esperanto was invented in the 1880s as an international language.",
        ),
    ),
    Group(
        "How do bees make honey?",
        "Bees swallow flower nectar, pass it between workers to add enzymes, and fan it with their wings in the comb until most of the water evaporates.",
        (
            "A queen bee can lay up to two thousand eggs a day.",
            "Bumblebees are larger and hairier than honeybees.",
            "Pollinators such as bees are needed for many fruit and vegetable crops.",
            "A beekeeper uses smoke to calm the bees before opening a hive.",
        ),
    ),
    Group(
        "What is the tallest mountain in Africa?",
        "Mount Kilimanjaro in Tanzania is Africa's highest mountain at about 5,895 metres.",
        (
            "The Atlas Mountains stretch across Morocco, Algeria and Tunisia.",
            "The Great Rift Valley runs from Lebanon to Mozambique.",
            "Climbers on high mountains risk altitude sickness when they ascend too quickly.",
            "Mount Kenya is an extinct volcano with several glaciers.",
        ),
    ),
    Group(
        "How does a vaccine create immunity?",
        "A vaccine exposes the immune system to a harmless form or part of a germ, so it makes antibodies and memory cells ready for the real infection.",
        (
            "Edward Jenner tested the first smallpox vaccine in 1796.",
            "Antibiotics kill bacteria but have no effect on viruses.",
            "Some vaccines need booster doses to keep protection high.",
            "Fever is one of the body's ways of fighting an infection.",
        ),
    ),
    Group(
        "What is the difference between HTTP and HTTPS?",
        "HTTPS is HTTP sent over an encrypted TLS connection, so others on the network cannot read or alter the traffic.",
        (
            "A URL names the scheme, host and path of a web resource.",
            "Web browsers cache images so pages load faster on later visits.",
            "HTTP status 404 means the server could not find the requested page.",
            "DNS translates domain names into IP addresses.",
        ),
    ),
    Group(
        "How long do elephants live?",
        "Elephants in the wild often live 60 to 70 years, about as long as people in many countries.",
        (
            "An elephant's trunk contains tens of thousands of muscles.",
            "African elephants have larger ears than Asian elephants.",
            "Ivory poaching has sharply reduced elephant numbers in some regions.",
            "Elephants communicate with rumbles too low for humans to hear.",
        ),
    ),
    Group(
        "What is the capital of Canada?",
        "Ottawa, in the province of Ontario, is the capital city of Canada.",
        (
            "Toronto is Canada's largest city and its financial centre.",
            "Canada has two official languages, English and French.",
            "The Rocky Mountains run through Alberta and British Columbia.",
            "Montreal hosted the Summer Olympic Games in 1976.",
        ),
    ),
    Group(
        "How much sleep does an adult need?",
        "Most adults need seven to nine hours of sleep a night to stay healthy and alert.",
        (
            "Rapid eye movement sleep is the stage in which most vivid dreams occur.",
            "Caffeine can stay in the body for many hours after a cup of coffee.",
            "Sleep apnoea causes repeated pauses in breathing during the night.",
            "Jet lag happens when the body clock is out of step with the local time.",
        ),
    ),
    Group(
        "What is the greenhouse effect?",
        "Gases such as carbon dioxide and methane let sunlight through but trap the heat that the Earth radiates back, warming the planet.",
        (
            "Glass greenhouses let gardeners grow tomatoes in cool climates.",
            "Solar power converts sunlight directly into electricity.",
            "Deforestation releases carbon stored in trees and soil.",
            "The ozone layer absorbs most of the Sun's ultraviolet radiation.",
        ),
    ),
    Group(
        "How do I remove a stripped screw?",
        "Press a wide rubber band between the screwdriver and the stripped head for grip, or use a screw extractor bit.",
        (
            "Phillips screws have a cross-shaped slot in the head.",
            "Pilot holes stop wood from splitting when a screw is driven in.",
            "A cordless drill's clutch limits how much torque reaches the screw.",
            "Wall plugs help screws hold in plaster and brick.",
        ),
    ),
    Group(
        "Who painted the Mona Lisa?",
        "Leonardo da Vinci painted the Mona Lisa in the early sixteenth century; it hangs in the Louvre.",
        (
            "Vincent van Gogh painted The Starry Night while in an asylum in Saint-Rémy.",
            "Oil paint dries slowly, letting painters blend colours on the canvas.",
            "The Renaissance began in Florence in the fourteenth century.",
            "Art restorers remove old varnish that has yellowed over time.",
        ),
    ),
    Group(
        "What is the chemical symbol for gold?",
        "Gold's chemical symbol is Au, from the Latin word aurum.",
        (
            "Silver conducts electricity better than any other metal.",
            "The periodic table arranges elements by their atomic number.",
            "Gold jewellery is often alloyed with copper to make it harder.",
            "Iron rusts when it reacts with oxygen and water.",
        ),
    ),
    Group(
        "How many players are on a football team?",
        "A football (soccer) team has eleven players on the pitch, one of whom is the goalkeeper.",
        (
            "The World Cup is held every four years.",
            "A match lasts ninety minutes, split into two halves.",
            "The offside rule stops attackers waiting beside the goal.",
            "Rugby union teams field fifteen players.",
        ),
    ),
    Group(
        "Why is the Dead Sea so salty?",
        "The Dead Sea has no outlet: water leaves only by evaporation in the desert heat, leaving its salts behind.",
        (
            "The Jordan River flows south from the Sea of Galilee.",
            "Seawater is about 3.5 percent salt on average.",
            "Salt flats form where shallow lakes dry up completely.",
            "The Mediterranean Sea connects to the Atlantic through the Strait of Gibraltar.",
        ),
    ),
    Group(
        "How do I create a new branch in git?",
        "Run git switch -c followed by the branch name (or git checkout -b) to create a branch and move onto it.",
        (
            "git log shows the history of commits on the current branch.",
            "A merge conflict happens when two branches change the same lines.",
            "git stash saves uncommitted changes so the working tree is clean.",
            "GitHub pull requests let others review a branch before it is merged.",
        ),
    ),
    Group(
        "What is the largest desert in the world?",
        "Counting cold deserts, Antarctica is the largest desert on Earth; the Sahara is the largest hot desert.",
        (
            "Camels store fat, not water, in their humps.",
            "Sand dunes move as wind blows sand up one side and down the other.",
            "The Atacama in Chile is one of the driest places on Earth.",
            "Oases form where groundwater reaches the surface in a desert.",
        ),
    ),
    Group(
        "How does a credit score affect a loan?",
        "Lenders use a credit score to judge risk: a higher score usually means a better chance of approval and a lower interest rate.",
        (
            "A mortgage is a loan secured against a home.",
            "Paying bills late stays on a credit report for several years.",
            "Student loans in some countries are repaid as a share of income.",
            "A co-signer promises to repay a loan if the borrower cannot.",
        ),
    ),
    Group(
        "What do pandas eat?",
        "Giant pandas eat almost nothing but bamboo, chewing through up to forty kilograms of it a day.",
        (
            "Giant pandas live in mountain forests of central China.",
            "Red pandas are not closely related to giant pandas.",
            "Zoos in several countries borrow pandas from China on long loans.",
            "Panda cubs are born pink, blind and tiny.",
        ),
    ),
    Group(
        "When did humans first land on the Moon?",
        "Apollo 11 landed on the Moon on 20 July 1969, and Neil Armstrong was the first to step onto the surface.",
        (
            "The Moon is slowly moving away from the Earth, a few centimetres a year.",
            "Sputnik 1, launched in 1957, was the first artificial satellite.",
            "The far side of the Moon was first photographed by a Soviet probe.",
            "Moon rocks brought back by astronauts are studied in laboratories worldwide.",
        ),
    ),
    Group(
        "How do I get rid of hiccups?",
        "Holding your breath for a few seconds or sipping cold water slowly often stops hiccups by resetting the diaphragm's rhythm.",
        (
            "The diaphragm is the main muscle used in breathing.",
            "Babies hiccup often, even before they are born.",
            "Eating too quickly can make people swallow air.",
            "Yawning is contagious among people and some animals.",
        ),
    ),
    Group(
        "What is the speed of sound in air?",
        "Sound travels through air at about 343 metres per second at 20 degrees Celsius.",
        (
            "Thunder is the sound of air expanding rapidly around a lightning bolt.",
            "An echo is sound reflected back from a surface.",
            "Human hearing ranges from about 20 hertz to 20 kilohertz.",
            "Concert halls are shaped to spread sound evenly to every seat.",
        ),
    ),
    Group(
        "Why do we have leap years?",
        "A year is about 365.24 days long, so an extra day is added to February every four years to keep the calendar in step with the seasons.",
        (
            "The Gregorian calendar was introduced by Pope Gregory XIII in 1582.",
            "A month is roughly the time the Moon takes to go through its phases.",
            "Daylight saving time moves clocks forward an hour in spring.",
            "The Chinese calendar combines lunar months with solar years.",
        ),
    ),
    Group(
        "What is the main cause of earthquakes?",
        "Most earthquakes happen when stress built up where tectonic plates meet is released suddenly along a fault.",
        (
            "Japan has strict building codes designed to survive strong shaking.",
            "Volcanic islands such as Hawaii form over hot spots in the mantle.",
            "The Richter scale was developed in California in the 1930s.",
            "Aftershocks can continue for months after a large earthquake.",
        ),
    ),
    Group(
        "How much caffeine is in a cup of coffee?",
        "A typical 240 millilitre cup of brewed coffee contains roughly 80 to 100 milligrams of caffeine.",
        (
            "Coffee beans are the roasted seeds of the coffee plant's cherries.",
            "Espresso is made by forcing hot water through finely ground coffee.",
            "Brazil grows more coffee than any other country.",
            "Decaffeinated coffee has most of its caffeine removed before roasting.",
        ),
    ),
    Group(
        "What is the largest planet in our solar system?",
        "Jupiter is the largest planet, more than eleven times wider than Earth.",
        (
            "Mars appears red because of iron oxide dust on its surface.",
            "Venus spins backwards compared with most other planets.",
            "Pluto was reclassified as a dwarf planet in 2006.",
            "Mercury has almost no atmosphere to hold in heat.",
        ),
    ),
    Group(
        "How can I improve my wifi signal at home?",
        "Place the router centrally and high, away from thick walls and metal, or add a mesh access point in distant rooms.",
        (
            "Ethernet cables give faster and steadier connections than wifi.",
            "The 5 GHz band is faster but has shorter range than 2.4 GHz.",
            "A VPN encrypts traffic between a device and a remote server.",
            "Internet providers advertise download speeds in megabits per second.",
        ),
    ),
    Group(
        "How do solar eclipses happen?",
        "A solar eclipse happens when the Moon passes directly between the Sun and Earth and casts its shadow on part of the planet.",
        (
            "A lunar eclipse can turn the Moon a coppery red.",
            "Looking at the Sun without proper filters can damage the eyes.",
            "The Sun's corona is its outer atmosphere of extremely hot plasma.",
            "Comets grow tails of gas and dust as they approach the Sun.",
        ),
    ),
    Group(
        "What is the recommended daily intake of protein?",
        "Adults are generally advised to eat about 0.8 grams of protein per kilogram of body weight each day.",
        (
            "Lentils and beans are good plant sources of fibre.",
            "Vitamin C is found in citrus fruit, peppers and broccoli.",
            "Athletes often eat more carbohydrates before a long race.",
            "Amino acids are the building blocks of muscle tissue.",
        ),
    ),
    Group(
        "Who discovered penicillin?",
        "Alexander Fleming discovered penicillin in 1928 when mould killed the bacteria in one of his culture dishes.",
        (
            "Louis Pasteur showed that heating milk kills harmful microbes.",
            "Antibiotic resistance grows when antibiotics are overused.",
            "Penicillin was mass-produced during the Second World War.",
            "Bacteria can be seen under an ordinary light microscope.",
        ),
    ),
    Group(
        "What is the difference between a crocodile and an alligator?",
        "Alligators have a wide U-shaped snout and hide their lower teeth when the mouth is shut; crocodiles have a narrower V-shaped snout with lower teeth showing.",
        (
            "Crocodiles are reptiles that have existed for over 200 million years.",
            "The Nile crocodile is one of the largest predators in Africa.",
            "Reptiles are cold-blooded and bask in the sun to warm up.",
            "Turtles carry a shell made of bone covered with keratin plates.",
        ),
    ),
    Group(
        "How long should I knead bread dough?",
        "Knead bread dough by hand for about ten minutes, until it is smooth, elastic and springs back when pressed.",
        (
            "Yeast feeds on sugar and releases carbon dioxide that makes dough rise.",
            "Sourdough bread uses wild yeast and bacteria instead of packaged yeast.",
            "Bread flour has more protein than cake flour.",
            "A baking stone helps pizza develop a crisp base.",
        ),
    ),
    Group(
        "What is the longest river in the world?",
        "The Nile, at about 6,650 kilometres, is usually counted as the world's longest river, with the Amazon a close second.",
        (
            "The Mississippi River drains most of the central United States.",
            "The Danube flows through ten countries on its way to the Black Sea.",
            "River deltas form where sediment settles as a river meets the sea.",
            "The Three Gorges Dam on the Yangtze is the largest power station in the world.",
        ),
    ),
    Group(
        "How do noise-cancelling headphones work?",
        "Microphones on the headphones pick up outside sound and the speakers play an inverted copy of it, so the two waves cancel out.",
        (
            "Open-back headphones let sound leak in and out for a more natural feel.",
            "Bluetooth sends audio wirelessly over short distances.",
            "Listening at high volume for long periods can damage hearing.",
            "Earplugs made of foam block sound by sealing the ear canal.",
        ),
    ),
)

#: a second query per group, in the order of GROUPS, asking the same thing in other words:
#: few of the answer's own words, so the match must come from meaning
PARAPHRASES: tuple[str, ...] = (
    "delay before sunshine arrives on our planet",
    "avocado dip recipe, what goes in it",
    "what makes trees turn red and yellow before winter",
    "skeleton count for a grown person",
    "who came up with the first device for talking over wires",
    "biggest body of salt water",
    "formula to go from metric degrees to the American temperature scale",
    "meaning of the @ symbol above a def in python",
    "who first printed books with movable type and when",
    "watering schedule for sansevieria",
    "why does the sea rise and fall twice a day",
    "is there a maximum velocity on motorways in Germany",
    "how does a fridge actually chill things",
    "earliest female Nobel laureate",
    "what is an object so dense that nothing escapes it",
    "repairing a puncture on a bike",
    "how many people live in Japan",
    "signs you are not drinking enough fluids",
    "height of the iron lattice tower in Paris",
    "short-term atmosphere conditions versus long-term averages",
    "right water temperature and brewing time for sencha",
    "why do prices go up over the years",
    "top speed of the fastest land animal",
    "what do the bean-shaped organs near the spine do",
    "author of the tragedy about two young lovers in Verona",
    "at what temperature does H2O start to bubble",
    "earning interest on your interest",
    "which tongue is spoken natively by the most people",
    "how is nectar turned into a sweet syrup in the hive",
    "highest peak on the African continent",
    "how do jabs teach the body to fight disease",
    "what does the S in the secure web protocol add",
    "lifespan of the largest land mammal",
    "which city is the seat of the Canadian government",
    "how many hours a night should grown-ups rest",
    "how do heat-trapping gases warm the planet",
    "screw head is worn and the driver slips, how to get it out",
    "who is the artist behind La Gioconda",
    "periodic table abbreviation for the yellow precious metal",
    "how many people does one side field in soccer",
    "why is the lake between Israel and Jordan so briny",
    "make a new line of development in a repository and switch to it",
    "biggest arid region on the planet",
    "does my rating from the bureaus change what a bank charges me",
    "diet of the black and white bear from China",
    "date of the first crewed lunar landing",
    "ways to stop a diaphragm spasm",
    "how quickly does noise move through the atmosphere",
    "why is February sometimes 29 days long",
    "what makes the ground shake",
    "milligrams of stimulant in a mug of brewed java",
    "the giant gas planet that is the biggest",
    "my wireless internet is weak in some rooms, what can I do",
    "why does the moon sometimes block the sun",
    "grams of protein a person should eat each day",
    "who found the first antibiotic from mould",
    "telling apart gators and crocs",
    "how many minutes to work a loaf's dough",
    "which river is the longest on Earth",
    "how do headphones block outside noise",
)
