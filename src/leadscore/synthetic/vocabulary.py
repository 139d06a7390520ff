"""The words synthetic contacts and events are made of: names, titles, industries, countries,
site pages, forms and campaigns. Plain data; the generator decides how often each appears.

The example model (`leadscore init`) rewards some of these values (target industries and
countries, decision-making titles, /pricing and /customers/ pages, bottom-of-funnel forms), so
the lists deliberately hold near misses too ("CFO", "Founder", "Computer Software",
"icloud.com"): real data never lines up with a scoring formula exactly.
"""

from __future__ import annotations

SITE = "https://www.example.com"
OWN_DOMAIN = "example.com"

FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony "
    "Betty Mark Sandra Donald Ashley Steven Emily Paul Michelle Andrew Amanda Joshua Melissa "
    "Kevin Deborah Brian Stephanie George Rebecca Timothy Laura Ronald Sharon Jason Cynthia "
    "Jeffrey Kathleen Ryan Amy Jacob Angela Gary Shirley Nicholas Anna Eric Brenda Jonathan "
    "Pamela Stephen Emma Larry Nicole Justin Helen Scott Samantha Brandon Katherine Benjamin "
    "Christine Samuel Debra Gregory Rachel Alexander Carolyn Frank Janet Patrick Maria Raymond "
    "Olivia Jack Heather Dennis Diane Jerry Julie Tyler Joyce Aaron Victoria Jose Kelly Adam "
    "Christina Nathan Lauren Henry Joan Priya Arjun Wei Mei Hiroshi Yuki Lukas Anna Mateo "
    "Sofia Lucas Chloe Pierre Camille Jan Sanne Oliver Amelia Noah Isla Liam Ava Ahmed Fatima "
    "Carlos Lucia Marco Giulia Piotr Zofia Chinedu Ngozi Rahul Ananya Kenji Sakura Felix Lena"
).split()

LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen "
    "Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez "
    "Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy "
    "Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox "
    "Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price "
    "Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Muller Schmidt Schneider "
    "Fischer Weber Meyer Wagner Becker Dubois Moreau Laurent Bernard Jansen DeVries Bakker "
    "Visser Singh Sharma Gupta Kumar Tanaka Suzuki Sato Watanabe Chen Wang Li Zhang Liu Rossi "
    "Russo Ferrari Kowalski Nowak Okafor Adeyemi Silva Santos Oliveira Costa Murray MacDonald"
).split()

COMPANY_WORDS_A = (
    "Blue North Bright Silver Green Red Iron Swift Clear True Prime Summit Harbor Cedar Maple "
    "Granite Atlas Orbit Polar Vertex Apex Quantum Nimbus Coral Falcon Pioneer Liberty Crescent "
    "Golden Rapid Solid Open Smart Urban Alpine Pacific Atlantic Meridian Horizon Beacon Keystone "
    "Sterling Evergreen Riverside Lakeside Highland Copper Cobalt Crystal Echo Nova Zenith"
).split()
COMPANY_WORDS_B = (
    "Data Logic Labs Works Systems Analytics Cloud Health Capital Bank Foods Motors Energy "
    "Retail Media Logistics Dynamics Networks Software Partners Consulting Robotics Medical "
    "Finance Insurance Foundry Textiles Pharma Devices Learning Studios Freight Metrics Signal "
    "Ventures Supply Tools Materials Solutions Payments Security Bio Grid Mobility Commerce"
).split()
COMPANY_SUFFIXES = ("Inc.", "LLC", "Ltd", "GmbH", "Group", "Corp.", "Co.", "", "", "", "")

# (name as stored, whether the example model counts it as a target industry)
TARGET_INDUSTRIES = ("Software", "Financial Services", "Healthcare", "Manufacturing")
OTHER_INDUSTRIES = (
    "Retail", "Education", "Government", "Media", "Hospitality", "Non-profit", "Real Estate",
    "Telecommunications", "Consulting", "Logistics", "Construction", "Energy", "Agriculture",
    "Computer Software", "Insurance", "Legal",
)

# country, weight among its group, cities
TARGET_COUNTRIES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("United States", 10.0, ("New York", "San Francisco", "Austin", "Chicago", "Boston",
                             "Seattle", "Atlanta", "Denver")),
    ("United Kingdom", 3.0, ("London", "Manchester", "Edinburgh", "Bristol")),
    ("Germany", 2.5, ("Berlin", "Munich", "Hamburg", "Frankfurt")),
    ("Canada", 2.0, ("Toronto", "Vancouver", "Montreal")),
    ("France", 1.8, ("Paris", "Lyon", "Toulouse")),
    ("Netherlands", 1.0, ("Amsterdam", "Rotterdam", "Utrecht")),
)
OTHER_COUNTRIES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("India", 4.0, ("Bangalore", "Mumbai", "Pune", "Hyderabad")),
    ("Brazil", 2.0, ("São Paulo", "Rio de Janeiro")),
    ("Australia", 2.0, ("Sydney", "Melbourne")),
    ("Spain", 1.5, ("Madrid", "Barcelona")),
    ("Italy", 1.2, ("Milan", "Rome")),
    ("Japan", 1.0, ("Tokyo", "Osaka")),
    ("Mexico", 1.0, ("Mexico City", "Guadalajara")),
    ("Poland", 0.8, ("Warsaw", "Kraków")),
    ("Nigeria", 0.8, ("Lagos", "Abuja")),
    ("Singapore", 0.6, ("Singapore",)),
    ("USA", 0.8, ("New York", "Dallas")),  # how some forms spell it: misses the target list
)
COUNTRY_DOMAINS = {"United Kingdom": ".co.uk", "Germany": ".de", "France": ".fr",
                   "Netherlands": ".nl", "Canada": ".ca", "India": ".in", "Brazil": ".com.br",
                   "Australia": ".com.au", "Spain": ".es", "Italy": ".it", "Japan": ".jp",
                   "Poland": ".pl"}

FREE_EMAIL_DOMAINS = (("gmail.com", 6.0), ("yahoo.com", 2.0), ("hotmail.com", 1.5),
                      ("outlook.com", 1.5), ("icloud.com", 0.8), ("proton.me", 0.3),
                      ("gmx.de", 0.3))

FUNCTIONS = ("Marketing", "Sales", "Engineering", "Operations", "Finance", "Product", "IT",
             "Data", "Customer Success", "Human Resources")

# Seniority levels; the generator draws one per contact and a title from its templates.
# "{f}" is the contact's function.
EXECUTIVE, VP, DIRECTOR, MANAGER, INDIVIDUAL, STUDENT, NO_TITLE = range(7)
TITLE_TEMPLATES: dict[int, tuple[str, ...]] = {
    EXECUTIVE: ("Chief Executive Officer", "CEO", "CTO", "Chief Technology Officer", "CMO",
                "Chief Marketing Officer", "Chief Revenue Officer", "CFO", "COO", "Founder",
                "Co-Founder & CEO", "Managing Director", "President"),
    VP: ("VP of {f}", "VP {f}", "Vice President, {f}", "Vice President of {f}", "SVP {f}",
         "EVP, {f}"),
    DIRECTOR: ("Director of {f}", "{f} Director", "Head of {f}", "Senior Director, {f}",
               "Head of {f} Operations", "Associate Director, {f}"),
    MANAGER: ("{f} Manager", "Senior {f} Manager", "{f} Team Lead", "Lead {f} Specialist",
              "Product Owner", "Project Manager", "Account Manager", "{f} Supervisor"),
    INDIVIDUAL: ("Software Engineer", "Senior Software Engineer", "Data Analyst",
                 "Marketing Specialist", "Account Executive", "Sales Development Representative",
                 "Consultant", "Designer", "Accountant", "Solutions Architect",
                 "Marketing Coordinator", "Data Scientist", "Business Analyst",
                 "Customer Success Specialist", "DevOps Engineer", "Recruiter"),
    STUDENT: ("Student", "MBA Student", "Marketing Intern", "Software Engineering Intern",
              "Graduate Student", "PhD Candidate", "Intern"),
    NO_TITLE: ("",),
}
# relative frequency of each level among contacts
SENIORITY_WEIGHTS = (0.06, 0.06, 0.11, 0.20, 0.38, 0.07, 0.12)
# how much each level adds to a contact's latent fit
SENIORITY_FIT = (1.0, 0.9, 0.7, 0.3, -0.2, -1.6, -0.4)

ORIGINAL_SOURCES = (("organic_search", 35.0), ("paid_search", 14.0), ("direct", 12.0),
                    ("social", 10.0), ("partner_referral", 7.0), ("email", 6.0),
                    ("offline", 16.0))
VISIT_SOURCES = ("direct", "organic_search", "paid_search", "partner_referral", "social",
                 "email")
PARTNER_SITES = ("https://www.crmpartners.io/", "https://www.growthstack.net/integrations",
                 "https://www.revopsguild.org/")
SOCIAL_SITES = ("https://www.linkedin.com/", "https://x.com/", "https://www.youtube.com/")
SEARCH_REFERRER = "https://www.google.com/"

SALES_REPS = ("alex.morgan@example.com", "sam.rivera@example.com", "jordan.lee@example.com",
              "casey.patel@example.com", "taylor.schmidt@example.com",
              "robin.dubois@example.com")

COMPETITORS = ("ScoreHub", "LeadSift", "Funnelwise", "Qualifyr", "PipeRank")
VENDORS = ("PrintPro Supplies", "OfficeNest", "CloudHost Partners", "AdSpace Media",
           "TalentBridge Recruiting")
PARTNERS = ("CRM Partners", "GrowthStack", "RevOps Guild")

# ---- the website --------------------------------------------------------------------------
BLOG_POSTS = tuple(
    f"/blog/{slug}" for slug in (
        "what-is-lead-scoring", "mql-vs-sql", "lead-scoring-models-explained",
        "b2b-buyer-journey", "intent-data-101", "marketing-automation-checklist",
        "how-to-define-your-icp", "sales-and-marketing-alignment", "lead-nurturing-emails",
        "predictive-lead-scoring", "negative-scoring", "score-decay", "revops-metrics",
        "account-based-marketing", "demand-generation-playbook", "content-scoring",
        "webinar-promotion-tips", "landing-page-conversion", "email-deliverability",
        "crm-data-hygiene", "lifecycle-stages", "lead-routing", "pipeline-velocity",
        "attribution-models", "form-optimization", "gdpr-for-marketers", "ab-testing-guide",
        "sales-handoff-sla", "funnel-benchmarks-2025", "seo-for-saas", "product-led-growth",
        "customer-data-platforms", "buyer-personas", "cold-outreach", "linkedin-ads",
        "marketing-budget-planning", "churn-signals", "expansion-revenue", "event-marketing",
        "building-a-revops-team",
    )
)
CUSTOMER_STORIES = tuple(
    f"/customers/{slug}" for slug in (
        "northwind-analytics", "contoso-health", "globex-manufacturing", "initech-software",
        "umbrella-financial", "stark-logistics", "wayne-capital", "acme-devices",
        "hooli-cloud", "vandelay-industries", "soylent-foods", "tyrell-robotics",
        "cyberdyne-security", "wonka-retail", "oscorp-bio", "massive-dynamic",
    )
)
PRODUCT_PAGES = ("/product", "/product/scoring", "/product/lifecycle", "/product/workflows",
                 "/product/backtesting", "/product/integrations", "/product/security",
                 "/product/api")
DOCS_PAGES = tuple(
    f"/docs/{slug}" for slug in (
        "getting-started", "model-file", "criteria", "decay", "thresholds", "lists",
        "workflows", "webhooks", "api/contacts", "api/events", "api/scores", "import",
        "backtest", "cli", "postgres", "spark", "faq", "changelog", "sso", "permissions",
    )
)
PRICING_PAGES = ("/pricing", "/pricing", "/pricing", "/pricing/enterprise", "/pricing/compare")
HOME_PAGES = ("/",)
COMPANY_PAGES = ("/company/about", "/company/contact", "/company/team", "/company/news")
CAREER_PAGES = ("/careers", "/careers/open-roles", "/careers/internships")

CONTENT_FORMS = (
    "ebook-lead-scoring-guide", "ebook-revops-handbook", "ebook-mql-definition",
    "ebook-abm-playbook", "whitepaper-predictive-scoring", "whitepaper-data-quality",
    "whitepaper-roi-of-scoring", "webinar-scoring-masterclass", "webinar-sales-alignment",
    "webinar-decay-explained", "webinar-customer-panel", "newsletter",
)
SALES_FORMS = ("demo-request", "contact-sales", "evaluation-request")
CTAS = ("cta-book-demo", "cta-free-trial", "cta-download-guide", "cta-newsletter",
        "cta-compare-plans")
MEETING_TYPES = ("demo", "discovery_call")
