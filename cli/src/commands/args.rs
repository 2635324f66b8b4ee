//! Argument-count checks for the image commands, worded like today's CLI
//! (`"docker pull" requires exactly 1 argument.`), as usage errors (exit 2).

use crate::client::CliError;

/// How many positional arguments a command takes.
pub enum Count {
    Exactly(usize),
    AtLeast(usize),
    Between(usize, usize),
}

/// Checks `rest` against `count`.
pub fn check(name: &str, rest: &[String], count: Count) -> Result<(), CliError> {
    let n = rest.len();
    let plural = |k: usize| if k == 1 { "argument" } else { "arguments" };
    let wrong = match count {
        Count::Exactly(k) if n != k => Some(format!("requires exactly {k} {}", plural(k))),
        Count::AtLeast(k) if n < k => Some(format!("requires at least {k} {}", plural(k))),
        Count::Between(lo, hi) if n < lo || n > hi => {
            Some(format!("requires at least {lo} and at most {hi} arguments"))
        }
        _ => None,
    };
    match wrong {
        Some(why) => Err(CliError::Usage(format!("\"docker {name}\" {why}.\nSee 'docker {name} --help'."))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        let two = vec!["a".to_string(), "b".to_string()];
        assert!(check("tag", &two, Count::Exactly(2)).is_ok());
        let e = check("pull", &two, Count::Exactly(1)).unwrap_err();
        assert_eq!(e.to_string(), "\"docker pull\" requires exactly 1 argument.\nSee 'docker pull --help'.");
        assert_eq!(e.exit_code(), 2);
        assert!(check("rmi", &[], Count::AtLeast(1)).is_err());
        assert!(check("import", &two, Count::Between(1, 2)).is_ok());
        assert!(check("import", &[], Count::Between(1, 2)).is_err());
    }
}
