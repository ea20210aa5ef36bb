//! The English–French sentence pairs of the machine-translation chapter: the real `fra-eng`
//! archive of the data hub (Tatoeba pairs, `fra-eng/fra.txt`), or, where it cannot be had
//! (offline tests, CI), a **generated stand-in** in the same format.
//!
//! The stand-in is built from a small grammar (pronouns, "to be" with adjectives that agree in
//! gender and number, a few conjugated verbs, negation, possession with numbers), so a model can
//! learn it, but it is not the real data. It is always labelled: a `SYNTHETIC.md` file sits
//! beside it, [`FraEngText::synthetic`] says so, and loading it publishes a
//! [`Notice`](crate::display::Notice) ([`crate::display::notice`]), which the book builder shows at
//! the top of the page. Set `D2L_FRA_ENG=synthetic` to use it.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let text = d2l::data::fra_eng::load_synthetic(dir.path()).unwrap();
//! assert!(text.synthetic);
//! let first = text.text.lines().next().unwrap();
//! assert_eq!(first.split('\t').count(), 2);
//! ```

use std::path::{Path, PathBuf};

use super::fashion_mnist::SYNTHETIC_MARKER;
use super::{DataError, DataHub};

/// `D2L_FRA_ENG=synthetic` makes [`FraEngText::fetch`] use the generated stand-in.
pub const FRA_ENG_ENV: &str = d2l_protocol::env::FRA_ENG;

/// The file inside the unpacked archive (and inside the stand-in's directory).
pub const FILE: &str = "fra.txt";

/// The raw text of the pairs: one pair per line, English, a tab, French.
pub struct FraEngText {
    /// The whole file.
    pub text: String,
    /// Whether this is the generated stand-in rather than the real data set.
    pub synthetic: bool,
    /// The file it was read from.
    pub path: PathBuf,
}

impl FraEngText {
    /// The pairs from the book's data hub (see [`FraEngText::fetch_from`]).
    pub fn fetch() -> Result<Self, DataError> {
        Self::fetch_from(&DataHub::new())
    }

    /// Downloads (or finds in the cache) and unpacks `fra-eng.zip`, then reads `fra.txt`. With
    /// `D2L_FRA_ENG=synthetic` it reads the stand-in in `<cache>/fra-eng-synthetic` instead,
    /// writing it first if needed.
    pub fn fetch_from(hub: &DataHub) -> Result<Self, DataError> {
        if std::env::var(FRA_ENG_ENV).is_ok_and(|v| v.eq_ignore_ascii_case("synthetic")) {
            return load_synthetic(hub.cache_dir().join("fra-eng-synthetic"));
        }
        let dir = hub
            .download_extract("fra-eng", None)
            .map_err(|e| e.suggesting_stand_in(FRA_ENG_ENV))?;
        let path = dir.join(FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| DataError::io(&path, e))?;
        Ok(FraEngText {
            text,
            synthetic: false,
            path,
        })
    }
}

/// Reads the stand-in in `dir`, writing it there first unless it is already complete.
pub fn load_synthetic(dir: impl AsRef<Path>) -> Result<FraEngText, DataError> {
    let dir = dir.as_ref();
    let path = dir.join(FILE);
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let lock = super::hub::lock_cache(parent)?;
    if !(dir.join(SYNTHETIC_MARKER).is_file() && path.is_file()) {
        write_synthetic(dir)?;
    }
    drop(lock);
    let text = std::fs::read_to_string(&path).map_err(|e| DataError::io(&path, e))?;
    crate::display::notice(&crate::display::Notice::SyntheticData {
        dataset: "the fra-eng English–French pairs".into(),
        switch: format!("{FRA_ENG_ENV}=synthetic"),
    });
    Ok(FraEngText {
        text,
        synthetic: true,
        path,
    })
}

/// Writes the stand-in (`fra.txt` and `SYNTHETIC.md`) into `dir`, atomically: a temporary
/// directory is filled and then renamed into place.
pub fn write_synthetic(dir: impl AsRef<Path>) -> Result<(), DataError> {
    let dir = dir.as_ref();
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| DataError::io(parent, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".fra-eng-synthetic.")
        .tempdir_in(parent)
        .map_err(|e| DataError::io(parent, e))?;
    let pairs = synthetic_pairs();
    let mut text = String::new();
    for (english, french) in &pairs {
        text.push_str(&format!("{english}\t{french}\n"));
    }
    let file = tmp.path().join(FILE);
    std::fs::write(&file, text).map_err(|e| DataError::io(&file, e))?;
    let marker = tmp.path().join(SYNTHETIC_MARKER);
    let note = format!(
        "# GENERATED stand-in for the fra-eng data set\n\n\
         `{FILE}` is NOT the Tatoeba English–French corpus. `d2l` generated its {} pairs from a \
         small grammar so that the translation chapter runs offline. Results on it say nothing \
         about real translation quality.\n",
        pairs.len()
    );
    std::fs::write(&marker, note).map_err(|e| DataError::io(&marker, e))?;
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    }
    let kept = tmp.keep();
    std::fs::rename(&kept, dir).map_err(|e| DataError::io(dir, e))?;
    Ok(())
}

/// A grammatical person: English subject, French subject, French subject before a vowel.
struct Person {
    english: &'static str,
    french: &'static str,
    french_elided: &'static str,
    /// Index into the conjugation tables (je, tu, il/elle, nous, vous, ils/elles).
    form: usize,
    feminine: bool,
    plural: bool,
}

const PEOPLE: [Person; 8] = [
    Person {
        english: "I",
        french: "je",
        french_elided: "j'",
        form: 0,
        feminine: false,
        plural: false,
    },
    Person {
        english: "You",
        french: "tu",
        french_elided: "tu ",
        form: 1,
        feminine: false,
        plural: false,
    },
    Person {
        english: "He",
        french: "il",
        french_elided: "il ",
        form: 2,
        feminine: false,
        plural: false,
    },
    Person {
        english: "She",
        french: "elle",
        french_elided: "elle ",
        form: 2,
        feminine: true,
        plural: false,
    },
    Person {
        english: "We",
        french: "nous",
        french_elided: "nous ",
        form: 3,
        feminine: false,
        plural: true,
    },
    Person {
        english: "You all",
        french: "vous",
        french_elided: "vous ",
        form: 4,
        feminine: false,
        plural: true,
    },
    Person {
        english: "They",
        french: "ils",
        french_elided: "ils ",
        form: 5,
        feminine: false,
        plural: true,
    },
    Person {
        english: "The girls",
        french: "les filles",
        french_elided: "les filles ",
        form: 5,
        feminine: true,
        plural: true,
    },
];

/// English "to be" (present, past) per form, and French "être" (present, imperfect).
const BE_EN: [(&str, &str); 6] = [
    ("am", "was"),
    ("are", "were"),
    ("is", "was"),
    ("are", "were"),
    ("are", "were"),
    ("are", "were"),
];
const BE_FR: [(&str, &str); 6] = [
    ("suis", "étais"),
    ("es", "étais"),
    ("est", "était"),
    ("sommes", "étions"),
    ("êtes", "étiez"),
    ("sont", "étaient"),
];

/// English adjective, French masculine, feminine, masculine plural, feminine plural.
const ADJECTIVES: [(&str, [&str; 4]); 12] = [
    ("old", ["vieux", "vieille", "vieux", "vieilles"]),
    ("tall", ["grand", "grande", "grands", "grandes"]),
    ("small", ["petit", "petite", "petits", "petites"]),
    ("happy", ["heureux", "heureuse", "heureux", "heureuses"]),
    ("tired", ["fatigué", "fatiguée", "fatigués", "fatiguées"]),
    ("ready", ["prêt", "prête", "prêts", "prêtes"]),
    ("sick", ["malade", "malade", "malades", "malades"]),
    ("rich", ["riche", "riche", "riches", "riches"]),
    ("calm", ["calme", "calme", "calmes", "calmes"]),
    ("young", ["jeune", "jeune", "jeunes", "jeunes"]),
    ("busy", ["occupé", "occupée", "occupés", "occupées"]),
    (
        "wrong",
        [
            "dans l'erreur",
            "dans l'erreur",
            "dans l'erreur",
            "dans l'erreur",
        ],
    ),
];

/// English verb (base, third person singular) and French present forms.
const VERBS: [(&str, &str, [&str; 6]); 8] = [
    (
        "run",
        "runs",
        ["cours", "cours", "court", "courons", "courez", "courent"],
    ),
    (
        "swim",
        "swims",
        ["nage", "nages", "nage", "nageons", "nagez", "nagent"],
    ),
    (
        "eat",
        "eats",
        ["mange", "manges", "mange", "mangeons", "mangez", "mangent"],
    ),
    (
        "sleep",
        "sleeps",
        ["dors", "dors", "dort", "dormons", "dormez", "dorment"],
    ),
    (
        "read",
        "reads",
        ["lis", "lis", "lit", "lisons", "lisez", "lisent"],
    ),
    (
        "walk",
        "walks",
        [
            "marche", "marches", "marche", "marchons", "marchez", "marchent",
        ],
    ),
    (
        "win",
        "wins",
        ["gagne", "gagnes", "gagne", "gagnons", "gagnez", "gagnent"],
    ),
    (
        "lose",
        "loses",
        ["perds", "perds", "perd", "perdons", "perdez", "perdent"],
    ),
];

/// French "avoir" per form, and nouns (English plural, French plural) for "I have two cats".
const HAVE_FR: [&str; 6] = ["ai", "as", "a", "avons", "avez", "ont"];
const NOUNS: [(&str, &str); 6] = [
    ("cats", "chats"),
    ("dogs", "chiens"),
    ("books", "livres"),
    ("cars", "voitures"),
    ("friends", "amis"),
    ("keys", "clés"),
];
const NUMBERS: [(&str, &str); 4] = [
    ("two", "deux"),
    ("three", "trois"),
    ("four", "quatre"),
    ("ten", "dix"),
];

fn starts_with_vowel(word: &str) -> bool {
    word.starts_with(['a', 'e', 'i', 'o', 'u', 'é', 'ê', 'h'])
}

/// French subject + verb, eliding "je" before a vowel ("j'ai", "j'étais").
fn subject_verb(person: &Person, verb: &str) -> String {
    if starts_with_vowel(verb) {
        format!("{}{verb}", person.french_elided)
    } else {
        format!("{} {verb}", person.french)
    }
}

/// French negation around a verb: "ne ... pas", "n'... pas" before a vowel.
fn negated(person: &Person, verb: &str) -> String {
    let ne = if starts_with_vowel(verb) { "n'" } else { "ne " };
    format!("{} {ne}{verb} pas", person.french)
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Every pair of the grammar, in a fixed pseudo-random order (so a prefix mixes all kinds).
pub fn synthetic_pairs() -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for person in &PEOPLE {
        let (be_now, be_past) = BE_EN[person.form];
        let (etre_now, etre_past) = BE_FR[person.form];
        let number = usize::from(person.plural) * 2 + usize::from(person.feminine);
        let en = person.english;
        for (adjective, forms) in &ADJECTIVES {
            let adj = forms[number];
            pairs.push((
                format!("{en} {be_now} {adjective}."),
                format!("{} {adj}.", subject_verb(person, etre_now)),
            ));
            pairs.push((
                format!("{en} {be_past} {adjective}."),
                format!("{} {adj}.", subject_verb(person, etre_past)),
            ));
            let not = if person.form == 0 {
                format!("I'm not {adjective}.")
            } else {
                format!("{en} {be_now} not {adjective}.")
            };
            pairs.push((not, format!("{} {adj}.", negated(person, etre_now))));
            pairs.push((
                format!("{en} {be_past} not {adjective}."),
                format!("{} {adj}.", negated(person, etre_past)),
            ));
        }
        let third_singular = person.form == 2;
        for (base, third, forms) in &VERBS {
            let verb = if third_singular { third } else { base };
            pairs.push((
                format!("{en} {verb}."),
                format!("{}.", subject_verb(person, forms[person.form])),
            ));
            let dont = if third_singular { "doesn't" } else { "don't" };
            pairs.push((
                format!("{en} {dont} {base}."),
                format!("{}.", negated(person, forms[person.form])),
            ));
        }
        let have = if third_singular { "has" } else { "have" };
        for (noun, nom) in &NOUNS {
            for (count, nombre) in &NUMBERS {
                pairs.push((
                    format!("{en} {have} {count} {noun}."),
                    format!(
                        "{} {nombre} {nom}.",
                        subject_verb(person, HAVE_FR[person.form])
                    ),
                ));
            }
        }
    }
    // A fixed shuffle (SplitMix64-driven Fisher–Yates): the same file on every machine.
    let mut rng = crate::utils::SplitMix64::new(0x00f7_a0e0_2024);
    for i in (1..pairs.len()).rev() {
        pairs.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
    }
    pairs
        .into_iter()
        .map(|(en, fr)| (en, capitalize(&fr)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grammar_agrees_in_gender_number_and_elision() {
        let pairs = synthetic_pairs();
        let find = |en: &str| pairs.iter().find(|(e, _)| e == en).map(|(_, f)| f.as_str());
        assert_eq!(find("She is old."), Some("Elle est vieille."));
        assert_eq!(
            find("The girls were tired."),
            Some("Les filles étaient fatiguées.")
        );
        assert_eq!(find("I have two cats."), Some("J'ai deux chats."));
        assert_eq!(find("I'm not happy."), Some("Je ne suis pas heureux."));
        assert_eq!(find("He doesn't eat."), Some("Il ne mange pas."));
        assert_eq!(find("I was not old."), Some("Je n'étais pas vieux."));
        assert_eq!(find("We are not ready."), Some("Nous ne sommes pas prêts."));
        // Enough distinct pairs for the chapter's 512 + 128 examples.
        let distinct: std::collections::HashSet<_> = pairs.iter().collect();
        assert!(distinct.len() >= 640, "{} pairs", distinct.len());
        assert_eq!(distinct.len(), pairs.len());
    }

    #[test]
    fn an_unreachable_hub_names_the_stand_in() {
        if std::env::var_os(FRA_ENG_ENV).is_some() {
            return; // The stand-in was asked for; there is no download to fail.
        }
        let cache = tempfile::tempdir().unwrap();
        let hub = DataHub::new()
            .with_base_url("http://127.0.0.1:9/")
            .with_cache_dir(cache.path())
            .quiet(true);
        let message = FraEngText::fetch_from(&hub)
            .err()
            .expect("nothing listens on port 9")
            .to_string();
        assert!(message.contains("fra-eng.zip"), "{message}");
        assert!(message.contains("D2L_FRA_ENG=synthetic"), "{message}");
    }

    #[test]
    fn the_stand_in_is_written_once_and_labelled() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("fra-eng-synthetic");
        let first = load_synthetic(&target).unwrap();
        assert!(first.synthetic);
        assert!(target.join(SYNTHETIC_MARKER).is_file());
        assert!(first.text.lines().all(|line| line.split('\t').count() == 2));
        let again = load_synthetic(&target).unwrap();
        assert_eq!(first.text, again.text);
    }
}
