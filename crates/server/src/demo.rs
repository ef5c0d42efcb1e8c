//! The demo organisation: Contoso, a software company whose communication team curates news,
//! product stories, jobs and CSR work for 20,000 employees (after the Microsoft France story in
//! `shared/seed`). About 60 items in English and French across five channels, a few people.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use relay_protocol::{
    Audience, ContentKind, Enrolment, Network, NewChannel, NewContent, NewPerson, Role,
    SuggestedText,
};

use crate::auth::store::create_enrolment;
use crate::error::ApiError;
use crate::state::AppState;

pub const DEMO_ORG: &str = "contoso";
/// The employee whose enrolment code `demo` prints.
pub const DEMO_EMAIL: &str = "alex.martin@contoso.example";

const CHANNELS: &[(&str, &str, &str)] = &[
    ("corporate-news", "Corporate news", "Actualités du groupe"),
    ("products", "Products", "Produits"),
    ("careers", "Careers", "Carrières"),
    ("csr", "Social responsibility", "Responsabilité sociétale"),
    ("events", "Events", "Événements"),
];

const PEOPLE: &[(&str, &str, &str, &str, &str, Role)] = &[
    (
        "Alex Martin",
        DEMO_EMAIL,
        "FR",
        "en",
        "Marketing",
        Role::Employee,
    ),
    (
        "Camille Durand",
        "camille.durand@contoso.example",
        "FR",
        "fr",
        "Sales",
        Role::Employee,
    ),
    (
        "Priya Nair",
        "priya.nair@contoso.example",
        "IN",
        "en",
        "Engineering",
        Role::Employee,
    ),
    (
        "Jonas Weber",
        "jonas.weber@contoso.example",
        "DE",
        "de",
        "Engineering",
        Role::Employee,
    ),
    (
        "Léa Moreau",
        "lea.moreau@contoso.example",
        "FR",
        "fr",
        "Communications",
        Role::Curator,
    ),
    (
        "Sam Okafor",
        "sam.okafor@contoso.example",
        "GB",
        "en",
        "IT",
        Role::Admin,
    ),
];

/// Languages that read the English edition (everyone but French speakers, who get theirs).
const ENGLISH_READERS: &[&str] = &[
    "en", "de", "es", "it", "nl", "pt", "pl", "sv", "ja", "hi", "zh",
];

struct Story {
    slug: &'static str,
    channel: &'static str,
    kind: ContentKind,
    days_ago: i64,
    /// Countries it is meant for; empty for everyone.
    countries: &'static [&'static str],
    tags: &'static str,
    en: (&'static str, &'static str),
    fr: (&'static str, &'static str),
}

const STORIES: &[Story] = &[
    Story { slug: "womens-day-video", channel: "csr", kind: ContentKind::Video, days_ago: 1, countries: &[], tags: "#IWD #WomenInTech",
        en: ("Our International Women's Day film: ten engineers, ten stories", "Ten women who build our products talk about how they got into tech and what they would tell their younger selves."),
        fr: ("Journée de la femme : dix ingénieures, dix histoires", "Dix femmes qui conçoivent nos produits racontent leur parcours dans la tech et ce qu'elles diraient à la jeune fille qu'elles étaient.") },
    Story { slug: "charity-contest", channel: "csr", kind: ContentKind::SocialPost, days_ago: 2, countries: &["FR"], tags: "#Solidarité #Contoso",
        en: ("Vote for the charities that will share €50,000", "Ten French charities are in the running. Every share of this post counts as a vote, and the ten most supported win €5,000 each."),
        fr: ("Votez pour les associations qui se partageront 50 000 €", "Dix associations françaises sont en lice. Chaque partage compte comme un vote : les dix plus soutenues gagnent 5 000 € chacune.") },
    Story { slug: "nasa-mixed-reality", channel: "products", kind: ContentKind::Article, days_ago: 3, countries: &[], tags: "#MixedReality #Space",
        en: ("How NASA engineers use our mixed-reality headset", "Mission teams rehearse repairs on a holographic rover before anyone touches the real one, millions of kilometres away."),
        fr: ("Comment les ingénieurs de la NASA utilisent notre casque de réalité mixte", "Les équipes répètent les réparations sur un rover holographique avant de toucher au vrai, à des millions de kilomètres.") },
    Story { slug: "data-protection", channel: "corporate-news", kind: ContentKind::Article, days_ago: 4, countries: &[], tags: "#Privacy #GDPR",
        en: ("Your data, your rules: our privacy commitments explained", "Where customer data lives, who can see it and how to take it with you: the five commitments behind every Contoso service."),
        fr: ("Vos données, vos règles : nos engagements de confidentialité", "Où vivent les données de nos clients, qui peut les voir et comment les récupérer : les cinq engagements derrière chaque service Contoso.") },
    Story { slug: "smb-digital-marketing", channel: "products", kind: ContentKind::Article, days_ago: 5, countries: &[], tags: "#SMB #DigitalMarketing",
        en: ("Digital marketing for small businesses: a practical guide", "From a first newsletter to measuring what works, a step-by-step guide written with fifty small business owners."),
        fr: ("Le marketing digital pour les PME : le guide pratique", "De la première newsletter à la mesure des résultats, un guide pas à pas écrit avec cinquante dirigeants de PME.") },
    Story { slug: "quarterly-results", channel: "corporate-news", kind: ContentKind::Article, days_ago: 6, countries: &[], tags: "#Results",
        en: ("Third quarter: cloud revenue up 21%", "Strong demand for cloud and AI services drove the quarter. Read the highlights and what they mean for our customers."),
        fr: ("Troisième trimestre : le chiffre d'affaires cloud en hausse de 21 %", "La demande de services cloud et d'IA a porté le trimestre. Les points clés et ce qu'ils changent pour nos clients.") },
    Story { slug: "hiring-europe", channel: "careers", kind: ContentKind::Article, days_ago: 7, countries: &[], tags: "#Hiring #Jobs",
        en: ("We are hiring 300 engineers across Europe", "Cloud, security and AI teams are growing in Paris, Dublin, Berlin and Warsaw. Know someone great? Share this."),
        fr: ("Nous recrutons 300 ingénieurs en Europe", "Les équipes cloud, sécurité et IA grandissent à Paris, Dublin, Berlin et Varsovie. Vous connaissez la perle rare ? Partagez.") },
    Story { slug: "graduate-programme", channel: "careers", kind: ContentKind::Article, days_ago: 8, countries: &[], tags: "#Graduates #Careers",
        en: ("Applications open for the 2027 graduate programme", "Two years, three rotations, one mentor: our graduate programme is open to every discipline until January 31."),
        fr: ("Les candidatures au programme jeunes diplômés 2027 sont ouvertes", "Deux ans, trois missions, un mentor : le programme est ouvert à toutes les disciplines jusqu'au 31 janvier.") },
    Story { slug: "accessibility", channel: "products", kind: ContentKind::Video, days_ago: 9, countries: &[], tags: "#Accessibility #Inclusion",
        en: ("Accessibility built in: live captions now in 40 languages", "Live captions, reading guides and a redesigned screen reader mode arrive in every app this month."),
        fr: ("L'accessibilité intégrée : sous-titres en direct dans 40 langues", "Sous-titres en direct, guides de lecture et un mode lecteur d'écran repensé arrivent ce mois-ci dans toutes nos applications.") },
    Story { slug: "carbon-negative", channel: "csr", kind: ContentKind::Article, days_ago: 10, countries: &[], tags: "#Sustainability #Climate",
        en: ("Carbon negative by 2030: where we stand", "Emissions down 17% in two years, 5 million tonnes removed under contract: our annual sustainability report in ten charts."),
        fr: ("Neutralité carbone négative en 2030 : où en sommes-nous ?", "Émissions en baisse de 17 % en deux ans, 5 millions de tonnes retirées sous contrat : notre rapport annuel en dix graphiques.") },
    Story { slug: "ai-health-research", channel: "corporate-news", kind: ContentKind::Article, days_ago: 11, countries: &[], tags: "#AI #Health",
        en: ("A five-year partnership to speed up medical research with AI", "Our researchers join three university hospitals to shorten the time from a clinical question to an answer."),
        fr: ("Un partenariat de cinq ans pour accélérer la recherche médicale grâce à l'IA", "Nos chercheurs s'associent à trois CHU pour raccourcir le temps entre une question clinique et sa réponse.") },
    Story { slug: "paris-cloud-region", channel: "products", kind: ContentKind::Article, days_ago: 12, countries: &["FR", "BE", "CH", "LU"], tags: "#Cloud #France",
        en: ("Our new cloud region in Paris is open", "Three data centres, data kept in France, and the same services as every other region from day one."),
        fr: ("Notre nouvelle région cloud à Paris est ouverte", "Trois centres de données, des données hébergées en France et les mêmes services que partout ailleurs dès le premier jour.") },
    Story { slug: "hackathon-winners", channel: "events", kind: ContentKind::Video, days_ago: 13, countries: &[], tags: "#Hackathon",
        en: ("Hackathon 2026: meet the winning teams", "A sign-language translator, a flood early-warning map and a tool that reads prescriptions aloud took the top three places."),
        fr: ("Hackathon 2026 : les équipes gagnantes", "Un traducteur en langue des signes, une carte d'alerte aux crues et un outil qui lit les ordonnances à voix haute sur le podium.") },
    Story { slug: "volunteering-day", channel: "csr", kind: ContentKind::SocialPost, days_ago: 14, countries: &[], tags: "#Volunteering #GivingBack",
        en: ("12,000 of us volunteered on the same day", "Food banks, coding clubs, river clean-ups: a look back at our global volunteering day in pictures."),
        fr: ("12 000 collaborateurs bénévoles le même jour", "Banques alimentaires, clubs de code, nettoyage de rivières : retour en images sur notre journée mondiale du bénévolat.") },
    Story { slug: "phishing-awareness", channel: "corporate-news", kind: ContentKind::SocialPost, days_ago: 15, countries: &[], tags: "#CyberSecurity",
        en: ("Five signs an email is phishing", "Urgency, odd links, unexpected attachments: a one-minute checklist to share with friends and family."),
        fr: ("Cinq signes qu'un e-mail est du hameçonnage", "Urgence, liens étranges, pièces jointes inattendues : une liste d'une minute à partager avec vos proches.") },
    Story { slug: "lyon-office", channel: "corporate-news", kind: ContentKind::Article, days_ago: 16, countries: &["FR"], tags: "#Lyon",
        en: ("Our new Lyon office opens its doors", "Four hundred people, a customer innovation centre and a rooftop garden in the Part-Dieu district."),
        fr: ("Notre nouveau site de Lyon ouvre ses portes", "Quatre cents collaborateurs, un centre d'innovation client et un jardin sur le toit dans le quartier de la Part-Dieu.") },
    Story { slug: "retail-ai-webinar", channel: "events", kind: ContentKind::Article, days_ago: 17, countries: &[], tags: "#Retail #AI #Webinar",
        en: ("Webinar: what AI changes for retailers", "Join three retailers and our industry team on December 10 to see forecasting and store assistants at work."),
        fr: ("Webinaire : ce que l'IA change pour le commerce", "Rejoignez trois enseignes et notre équipe sectorielle le 10 décembre pour voir prévisions et assistants en magasin à l'œuvre.") },
    Story { slug: "hospital-records", channel: "products", kind: ContentKind::Article, days_ago: 18, countries: &[], tags: "#Health #CustomerStory",
        en: ("How a regional hospital went paperless in 18 months", "Two million records digitised, admissions twice as fast and nurses back at the bedside: a customer story."),
        fr: ("Comment un hôpital régional est passé au zéro papier en 18 mois", "Deux millions de dossiers numérisés, des admissions deux fois plus rapides et des soignants au chevet des patients.") },
    Story { slug: "intern-stories", channel: "careers", kind: ContentKind::Video, days_ago: 19, countries: &[], tags: "#Internship #Careers",
        en: ("Six months, one real project: our interns tell it like it is", "Five interns on what they shipped, what surprised them and what they would tell next year's class."),
        fr: ("Six mois, un vrai projet : nos stagiaires racontent", "Cinq stagiaires sur ce qu'ils ont livré, ce qui les a surpris et ce qu'ils diraient à la promotion suivante.") },
    Story { slug: "open-source", channel: "products", kind: ContentKind::Article, days_ago: 20, countries: &[], tags: "#OpenSource",
        en: ("We are open-sourcing our document layout engine", "The engine behind our editors is now on GitHub under the MIT licence, with its test suite of 40,000 documents."),
        fr: ("Nous publions en open source notre moteur de mise en page", "Le moteur de nos éditeurs est désormais sur GitHub sous licence MIT, avec ses 40 000 documents de test.") },
    Story { slug: "spring-offer", channel: "products", kind: ContentKind::Ad, days_ago: 21, countries: &[], tags: "#Productivity",
        en: ("Three months free for small teams", "Mail, calendar, documents and video calls for teams of up to 25: three months free for new customers."),
        fr: ("Trois mois offerts aux petites équipes", "Messagerie, agenda, documents et visioconférence pour les équipes jusqu'à 25 personnes : trois mois offerts aux nouveaux clients.") },
    Story { slug: "paris-tech-days", channel: "events", kind: ContentKind::Article, days_ago: 22, countries: &["FR"], tags: "#TechDays #Paris",
        en: ("Tech Days Paris: 15,000 visitors, 200 talks", "The replays of the keynote and the most-watched sessions are online."),
        fr: ("Tech Days Paris : 15 000 visiteurs, 200 conférences", "Les replays de la plénière et des sessions les plus suivies sont en ligne.") },
    Story { slug: "diversity-report", channel: "csr", kind: ContentKind::Article, days_ago: 23, countries: &[], tags: "#Diversity #Inclusion",
        en: ("Our 2026 diversity and inclusion report", "Representation, pay equity and hiring: the numbers, where we progressed and where we did not."),
        fr: ("Notre rapport 2026 sur la diversité et l'inclusion", "Représentation, égalité salariale et recrutement : les chiffres, nos progrès et nos retards.") },
    Story { slug: "teacher-training", channel: "csr", kind: ContentKind::Article, days_ago: 24, countries: &[], tags: "#Education",
        en: ("10,000 teachers trained to teach computing", "Free courses, lesson plans and a helpline: what teachers told us they needed, and what we built with them."),
        fr: ("10 000 enseignants formés à l'enseignement de l'informatique", "Cours gratuits, séquences clés en main et une ligne d'assistance : ce que les enseignants demandaient, construit avec eux.") },
    Story { slug: "smb-cybersecurity", channel: "products", kind: ContentKind::Article, days_ago: 25, countries: &[], tags: "#CyberSecurity #SMB",
        en: ("Cybersecurity for small businesses in five steps", "Multi-factor sign-in, backups, updates, training and a plan: the essentials, without the jargon."),
        fr: ("La cybersécurité des PME en cinq étapes", "Double authentification, sauvegardes, mises à jour, formation et plan de réponse : l'essentiel, sans jargon.") },
    Story { slug: "ceo-letter", channel: "corporate-news", kind: ContentKind::Article, days_ago: 26, countries: &[], tags: "#Strategy",
        en: ("A letter from our CEO: the next three years", "Why we are betting on trustworthy AI, skills and partners, and what it means for every team."),
        fr: ("Lettre de notre PDG : les trois prochaines années", "Pourquoi nous misons sur une IA de confiance, les compétences et nos partenaires, et ce que cela change pour chaque équipe.") },
    Story { slug: "best-workplace", channel: "careers", kind: ContentKind::SocialPost, days_ago: 27, countries: &[], tags: "#GreatPlaceToWork",
        en: ("Named one of the best workplaces of 2026", "An independent survey of our employees put us in the top ten for the third year running. Thank you, all of you."),
        fr: ("Parmi les entreprises où il fait bon travailler en 2026", "Une enquête indépendante auprès des salariés nous classe dans le top dix pour la troisième année. Merci à toutes et à tous.") },
    Story { slug: "kids-coding-club", channel: "csr", kind: ContentKind::Video, days_ago: 28, countries: &[], tags: "#Coding #Kids",
        en: ("Inside a coding club where 9-year-olds build games", "Volunteers run 300 weekly clubs in libraries and schools. Here is what an afternoon looks like."),
        fr: ("Dans un club de code où des enfants de 9 ans créent des jeux", "Nos bénévoles animent 300 clubs chaque semaine dans des bibliothèques et des écoles. Reportage.") },
    Story { slug: "console-launch", channel: "products", kind: ContentKind::Video, days_ago: 29, countries: &[], tags: "#Gaming",
        en: ("The new console is here: the launch in 90 seconds", "Faster loading, a quieter design and every game from the previous generation: the launch film."),
        fr: ("La nouvelle console est là : le lancement en 90 secondes", "Chargements plus rapides, design plus silencieux et tous les jeux de la génération précédente : le film de lancement.") },
    Story { slug: "women-mentoring", channel: "careers", kind: ContentKind::Article, days_ago: 30, countries: &[], tags: "#Mentoring #WomenInTech",
        en: ("A mentoring programme for women moving into tech roles", "Six months with a mentor from our engineering teams, open to applicants from any background."),
        fr: ("Un programme de mentorat pour les femmes qui se reconvertissent dans la tech", "Six mois avec un mentor de nos équipes techniques, ouvert à tous les parcours.") },
];

fn body(lang: &str, summary: &str) -> String {
    let more = if lang == "fr" {
        "Retrouvez tous les détails dans l'article complet. Partagez-le avec votre réseau si le sujet vous parle : un mot personnel vaut mieux qu'un message copié."
    } else {
        "Read the full story for the details. Share it with your network if it speaks to you: a personal word beats a copied message."
    };
    format!("<p><strong>{summary}</strong></p><p>{more}</p>")
}

fn suggested(lang: &str, title: &str, tags: &str) -> Vec<SuggestedText> {
    let (proud, worth) = if lang == "fr" {
        ("Fier de partager ceci", "À lire")
    } else {
        ("Proud to share this", "Worth a read")
    };
    vec![
        SuggestedText {
            network: Network::Linkedin,
            language: lang.into(),
            text: format!("{proud}: {title}. {tags}"),
        },
        SuggestedText {
            network: Network::X,
            language: lang.into(),
            text: format!("{worth}: {title} {tags}"),
        },
        SuggestedText {
            network: Network::Bluesky,
            language: lang.into(),
            text: format!("{worth}: {title}"),
        },
        SuggestedText {
            network: Network::Mastodon,
            language: lang.into(),
            text: format!("{title} {tags}"),
        },
    ]
}

/// Creates the demo organisation if it does not exist yet, and returns a fresh enrolment code
/// for the demo employee either way.
pub async fn ensure(state: &AppState) -> Result<Enrolment, ApiError> {
    let db = &state.db;
    let org = match crate::orgs::find(db, DEMO_ORG).await? {
        Some(org) => org,
        None => seed(state).await?,
    };
    let person = crate::people::find_by_email(db, &org.id, DEMO_EMAIL).await?;
    let mut tx = db.begin().await?;
    let enrolment =
        create_enrolment(&mut tx, &org.id, &person.id, None, &state.config.public_url).await?;
    tx.commit().await?;
    Ok(enrolment)
}

async fn seed(state: &AppState) -> Result<relay_protocol::Org, ApiError> {
    let db = &state.db;
    let org = crate::orgs::create(db, "Contoso", DEMO_ORG).await?;
    for (name, email, country, language, department, role) in PEOPLE {
        let new = NewPerson {
            name: (*name).into(),
            email: (*email).into(),
            country: (*country).into(),
            language: (*language).into(),
            department: (*department).into(),
            role: *role,
        };
        crate::people::add(db, &org.id, None, new).await?;
    }
    let mut channel_ids = BTreeMap::new();
    for (slug, en, fr) in CHANNELS {
        let names = BTreeMap::from([
            ("en".to_owned(), (*en).to_owned()),
            ("fr".to_owned(), (*fr).to_owned()),
        ]);
        let channel = crate::channels::create(
            state,
            &org.id,
            None,
            NewChannel {
                slug: (*slug).into(),
                names,
            },
        )
        .await?;
        channel_ids.insert(*slug, channel.id);
    }
    let now = Utc::now();
    // Oldest first, so the feed's newest item is the newest story.
    for story in STORIES.iter().rev() {
        for (lang, (title, summary)) in [("en", story.en), ("fr", story.fr)] {
            let languages = if lang == "fr" {
                vec!["fr".to_owned()]
            } else {
                ENGLISH_READERS.iter().map(|l| (*l).to_owned()).collect()
            };
            let new = NewContent {
                kind: story.kind,
                channel_id: channel_ids[story.channel].clone(),
                title: title.into(),
                summary: summary.into(),
                body_html: body(lang, summary),
                url: format!("https://news.contoso.example/{lang}/{}", story.slug),
                image_url: Some(format!(
                    "{}/demo-media/{}.svg",
                    state.config.public_url.trim_end_matches('/'),
                    story.slug
                )),
                language: lang.into(),
                suggested_texts: suggested(lang, title, story.tags),
                audience: Audience {
                    countries: story.countries.iter().map(|c| (*c).to_owned()).collect(),
                    languages,
                    departments: vec![],
                },
                publish_at: Some(
                    now - Duration::days(story.days_ago)
                        - Duration::minutes(if lang == "fr" { 1 } else { 0 }),
                ),
                expires_at: None,
            };
            let item = crate::content::store::create(state, &org.id, None, new).await?;
            crate::content::store::approve(state, &org.id, None, &item.item.id).await?;
        }
    }
    // One draft awaiting approval, to show curation.
    let draft = NewContent {
        kind: ContentKind::Article,
        channel_id: channel_ids["corporate-news"].clone(),
        title: "Draft: our 2027 annual kick-off".into(),
        summary: "Save the date. Agenda to follow.".into(),
        body_html: "<p>Awaiting approval.</p>".into(),
        url: "https://news.contoso.example/en/kick-off-2027".into(),
        image_url: None,
        language: "en".into(),
        suggested_texts: vec![],
        audience: Audience::default(),
        publish_at: None,
        expires_at: None,
    };
    crate::content::store::create(state, &org.id, None, draft).await?;
    Ok(org)
}

/// Writes `count` live items into a channel in bulk (a thousand per feed version), for
/// benchmarks and load tests: much faster than creating and approving each.
pub async fn bulk_items(
    state: &AppState,
    org_id: &str,
    channel_id: &str,
    count: usize,
) -> Result<(), ApiError> {
    let body = "<p>".to_owned()
        + &"Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(12)
        + "</p>";
    let words = [
        "cloud",
        "résumé",
        "sécurité",
        "hiring",
        "climate",
        "données",
        "partner",
        "launch",
        "award",
        "privacy",
    ];
    for chunk in 0..count.div_ceil(1000) {
        let mut ftx = crate::sync::version::FeedTx::begin(&state.db, org_id).await?;
        for i in chunk * 1000..((chunk + 1) * 1000).min(count) {
            let now = crate::db::now_ms() - (count - i) as i64 * 1000;
            sqlx::query(
                "INSERT INTO items (id, org_id, kind, channel_id, title, summary, body_html, url, image_url, language, \
                 suggested_texts, audience, state, publish_at, published_at, created_by, created_at, updated_at, \
                 approved_by, approved_at, live, ever_live, version) \
                 VALUES ($1, $2, 'article', $3, $4, $5, $6, $7, NULL, 'en', '[]', \
                 '{\"countries\":[],\"languages\":[],\"departments\":[]}', 'approved', $8, $8, 'bulk', $8, $8, \
                 'bulk', $8, 1, 1, $9)",
            )
            .bind(crate::db::new_id())
            .bind(org_id)
            .bind(channel_id)
            .bind(format!("Story {i}: {} news of the week", words[i % words.len()]))
            .bind(format!("Why {} matters, in two sentences. Item {i}.", words[(i / 10) % words.len()]))
            .bind(&body)
            .bind(format!("https://news.example.com/items/{i}"))
            .bind(now)
            .bind(ftx.version)
            .execute(&mut *ftx.tx)
            .await?;
        }
        ftx.commit(&state.events).await?;
    }
    Ok(())
}

/// An organisation `slug` with one channel holding `count` live items (see [`bulk_items`]).
pub async fn bulk_org(
    state: &AppState,
    slug: &str,
    count: usize,
) -> Result<relay_protocol::Org, ApiError> {
    let org = crate::orgs::create(&state.db, "Bench", slug).await?;
    let names = BTreeMap::from([("en".to_owned(), "News".to_owned())]);
    let channel = crate::channels::create(
        state,
        &org.id,
        None,
        NewChannel {
            slug: "news".into(),
            names,
        },
    )
    .await?;
    bulk_items(state, &org.id, &channel.id, count).await?;
    Ok(org)
}

/// Adds an employee (France, English, Sales) and issues their enrolment code: for benchmarks
/// and load tests.
pub async fn enrolled_employee(
    state: &AppState,
    org_id: &str,
    name: &str,
    email: &str,
) -> Result<Enrolment, ApiError> {
    let new = NewPerson {
        name: name.into(),
        email: email.into(),
        country: "FR".into(),
        language: "en".into(),
        department: "Sales".into(),
        role: Role::Employee,
    };
    let person = crate::people::add(&state.db, org_id, None, new).await?;
    let mut tx = state.db.begin().await?;
    let enrolment =
        create_enrolment(&mut tx, org_id, &person.id, None, &state.config.public_url).await?;
    tx.commit().await?;
    Ok(enrolment)
}

/// Written as one block, and a closed stdout is ignored: a server whose output pipe was closed
/// (a supervisor that stopped reading) must go on serving, not panic in `println!`.
pub fn print_enrolment(enrolment: &Enrolment) {
    use std::io::Write;
    let block = format!(
        "enrolment code: {}\nenrolment link: {}\nvalid until:    {}\n",
        enrolment.code,
        enrolment.link,
        enrolment.expires_at.to_rfc3339()
    );
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(block.as_bytes()).and_then(|()| out.flush());
}

/// The demo curator, who signs in to the console.
pub const DEMO_CURATOR_EMAIL: &str = "lea.moreau@contoso.example";

/// Prints the console's address and a one-time sign-in link for the demo curator.
pub async fn print_console_link(state: &AppState) -> Result<(), ApiError> {
    use std::io::Write;
    let org = crate::orgs::by_slug(&state.db, DEMO_ORG).await?;
    let curator = crate::people::find_by_email(&state.db, &org.id, DEMO_CURATOR_EMAIL).await?;
    let link = crate::console::links::create(
        &state.db,
        &org.id,
        &curator,
        &state.config.public_url,
        state.config.console.link_valid,
    )
    .await?;
    let block = format!(
        "console:        {}/console/\nconsole link:   {link}\n                (sign-in for {}, curator: once, within {} minutes)\n",
        state.config.public_url.trim_end_matches('/'),
        curator.name,
        state.config.console.link_valid.as_secs() / 60
    );
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(block.as_bytes()).and_then(|()| out.flush());
    Ok(())
}

/// A simple illustration per demo story, so the demo feed has pictures without the internet.
pub fn illustration(slug: &str) -> Option<String> {
    let index = STORIES.iter().position(|s| s.slug == slug)?;
    const PALETTE: &[(&str, &str)] = &[
        ("#0f6cbd", "#62abf5"),
        ("#5b2a86", "#b98ce0"),
        ("#0b6a0b", "#7fd17f"),
        ("#a4262c", "#f1707b"),
        ("#8a5a00", "#f2c14e"),
        ("#00666d", "#5cd6de"),
    ];
    let (dark, light) = PALETTE[index % PALETTE.len()];
    let cx = 120 + (index * 53) % 400;
    let cy = 60 + (index * 37) % 200;
    Some(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="640" height="336" viewBox="0 0 640 336"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="{dark}"/><stop offset="1" stop-color="{light}"/></linearGradient></defs><rect width="640" height="336" fill="url(#g)"/><circle cx="{cx}" cy="{cy}" r="90" fill="#ffffff" fill-opacity="0.18"/><circle cx="{}" cy="{}" r="140" fill="#ffffff" fill-opacity="0.10"/></svg>"##,
        640 - cx,
        336 - cy / 2
    ))
}
