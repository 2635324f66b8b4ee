//! Container names: Docker's `adjective_surname` generator
//! (`pkg/namesgenerator`) with our own word lists, and the validation of
//! user-given names (`daemon/names.go` of dockerd 1.12).

/// Adjectives, the first half of a generated name.
#[rustfmt::skip]
const ADJECTIVES: &[&str] = &[
    "able", "agile", "amazing", "amused", "ardent", "awesome", "blissful", "bold", "brave", "bright", "busy", "calm",
    "careful", "charming", "cheerful", "clever", "cool", "cosy", "crafty", "curious", "daring", "dazzling",
    "determined", "diligent", "dreamy", "eager", "earnest", "elastic", "elated", "elegant", "eloquent", "epic",
    "fervent", "festive", "fond", "focused", "friendly", "frosty", "funny", "gallant", "gentle", "gifted", "glad",
    "graceful", "happy", "hardy", "hopeful", "humble", "inspiring", "jolly", "jovial", "keen", "kind", "laughing",
    "lively", "loving", "lucid", "lucky", "magical", "merry", "mighty", "modest", "musing", "mystic", "nice", "nifty",
    "noble", "nostalgic", "objective", "optimistic", "patient", "peaceful", "pensive", "playful", "plucky", "polite",
    "practical", "priceless", "proud", "quick", "quiet", "quirky", "radiant", "relaxed", "resolute", "romantic",
    "rugged", "serene", "sharp", "shy", "silly", "sleepy", "smart", "snappy", "sober", "spirited", "stoic", "sturdy",
    "sunny", "sweet", "tender", "thirsty", "thoughtful", "tidy", "trusting", "upbeat", "valiant", "vibrant",
    "vigilant", "vigorous", "wizardly", "witty", "wonderful", "youthful", "zealous", "zen",
];

/// Surnames of scientists and engineers, the second half.
#[rustfmt::skip]
const SURNAMES: &[&str] = &[
    "agnesi", "al_khwarizmi", "archimedes", "babbage", "backus", "bardeen", "bell", "bernoulli", "bohr", "boole",
    "born", "bose", "brahe", "carson", "cauchy", "cerf", "chandrasekhar", "clarke", "codd", "copernicus", "cori",
    "curie", "darwin", "dijkstra", "dirac", "einstein", "engelbart", "euclid", "euler", "faraday", "fermat", "fermi",
    "feynman", "franklin", "galileo", "galois", "gauss", "germain", "goldberg", "goodall", "haber", "hamilton",
    "hawking", "heisenberg", "hertz", "hilbert", "hodgkin", "hopper", "hubble", "huygens", "hypatia", "jackson",
    "johnson", "joule", "kepler", "khayyam", "knuth", "kowalevski", "lamarr", "laplace", "leakey", "leibniz",
    "lovelace", "lumiere", "maxwell", "mayer", "mccarthy", "meitner", "mendel", "mendeleev", "minsky", "mirzakhani",
    "moore", "morse", "napier", "newton", "nobel", "noether", "ohm", "pascal", "pasteur", "pauli", "pauling",
    "perlman", "planck", "poincare", "ptolemy", "ramanujan", "ritchie", "roentgen", "rutherford", "sagan", "salk",
    "shannon", "shockley", "somerville", "stallman", "swanson", "tesla", "thompson", "torvalds", "turing", "volta",
    "wiles", "wilson", "wozniak", "wright", "yalow", "yonath",
];

/// A random `adjective_surname`; `retry > 0` appends a digit, as Docker
/// does, to make a clash on the next try less likely.
pub fn generate(retry: u32) -> String {
    let mut bytes = [0u8; 4];
    // Without randomness the first pair is as good a name as any: the
    // caller retries on conflict and finally falls back to the short ID.
    let _ = getrandom::fill(&mut bytes);
    let a = usize::from(u16::from_le_bytes([bytes[0], bytes[1]])) % ADJECTIVES.len();
    let s = usize::from(u16::from_le_bytes([bytes[2], bytes[3]])) % SURNAMES.len();
    let name = format!("{}_{}", ADJECTIVES[a], SURNAMES[s]);
    // Docker never generates this one.
    if name == "boring_wozniak" {
        return generate(retry);
    }
    if retry > 0 { format!("{name}{}", bytes[0] % 10) } else { name }
}

/// The characters a name may hold, as dockerd's error states them.
pub const VALID_NAME_CHARS: &str = "[a-zA-Z0-9][a-zA-Z0-9_.-]";

/// Checks a user-given name (`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`) and returns
/// it without the leading `/`.
pub fn validate(name: &str) -> Result<&str, String> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    let mut chars = bare.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest: Vec<char> = chars.collect();
    let rest_ok = !rest.is_empty() && rest.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if first_ok && rest_ok {
        Ok(bare)
    } else {
        Err(format!("Invalid container name ({name}), only {VALID_NAME_CHARS} are allowed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_are_valid() {
        for retry in 0..50 {
            let name = generate(retry % 2);
            assert!(validate(&name).is_ok(), "{name}");
            assert!(name.contains('_'));
        }
    }

    #[test]
    fn validation_follows_dockerd() {
        assert_eq!(validate("/web").unwrap(), "web");
        assert_eq!(validate("a.b-c_1").unwrap(), "a.b-c_1");
        for bad in ["", "/", "a", "_web", "-web", "we b", "web/1", "wé", "//web"] {
            let err = validate(bad).unwrap_err();
            assert_eq!(err, format!("Invalid container name ({bad}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"));
        }
    }
}
