//! Command-line flag parsing with the conventions of Docker 1.2's `pkg/mflag`.
//!
//! Used for the top-level `docker` flags and for every client subcommand. The conventions kept
//! from the original:
//!
//! * a flag has several names: `"d"` is `-d`, `"-daemon"` is `--daemon`, and a `#` prefix
//!   (`"#iptables"`, `"#-restart"`) makes a hidden, deprecated alias that still works but prints
//!   `Warning: '-iptables' is deprecated, it will be replaced by '--iptables' soon. See usage.`
//!   (the replacement is the first visible name declared *after* the alias, as in the original;
//!   without one the warning says "it will be removed soon");
//! * `-f=v`, `-f v`, `--flag=v`, `--flag v`; bool flags only take `=v` and mean `true` when bare;
//!   a `=v` wrapped in matching `"` or `'` has them stripped, as the original's `trimQuotes` did;
//! * ints are parsed like Go's `strconv.ParseInt(s, 0, 64)` (so `0x1f` and `017` work);
//! * a single-dash word that is not a declared name is retried as grouped letters (`-dD`), which is
//!   also why `-tls` fails with `flag provided but not defined: -tls` when only `--tls` exists;
//! * parsing stops at the first non-flag word (a lone `-` included) or after a consumed `--`;
//! * `-h`, `-help` and `--help` ask for help unless the caller declared them;
//! * the usage listing is laid out like `PrintDefaults` did through Go's tabwriter (minimum cell
//!   width 20, padding 3), including its sort order (by the first declared name, `#` and one dash
//!   stripped, case-insensitively) and the two extra spaces on continuation lines.
//!
//! Deliberate differences:
//!
//! * errors are returned, not printed, and nothing exits: the caller prints the message and the
//!   usage and picks the exit code (the original printed both and subcommands exited with 2);
//! * an invalid bool says `invalid value "x" for flag -d: ...` like every other kind, where the
//!   original said `invalid boolean value "x" for  -d: ...`;
//! * in a letter group every letter but the last must be a bool flag, and the last one receives
//!   the group's `=value` (or, if it is not a bool, the next argument). The original silently
//!   dropped `=value` in groups and let a non-bool letter in the middle eat the next argument;
//! * a value error inside a group is reported as it is (`flag needs an argument: -H`), rather than
//!   as the original's blanket `flag provided but not defined: -dH`;
//! * `---x` and `--=x` are `bad flag syntax`, as in Go's standard `flag` package; the original
//!   mflag called them undefined flags;
//! * validators (`fn(&str) -> Result<String, String>`, the role of docker's `opts` types) are a
//!   built-in feature: a validator runs on the raw text of each occurrence and its result is what
//!   gets stored (for int and bool flags, what gets parsed).

use std::collections::{HashMap, VecDeque};
use std::fmt;

/// A flag's current value (or its default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Bool(bool),
    Str(String),
    Int(i64),
    List(Vec<String>),
}

/// Why [`FlagSet::parse`] stopped without producing positional arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// `-h`/`-help`/`--help` was given and not declared: the caller prints usage.
    Help,
    /// A malformed command line; the message is what docker printed.
    Invalid(String),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Go's flag.ErrHelp text.
            ParseError::Help => f.write_str("flag: help requested"),
            ParseError::Invalid(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for ParseError {}

type Validator = fn(&str) -> Result<String, String>;

#[derive(Debug)]
struct Flag {
    /// As declared, `#` included.
    names: Vec<String>,
    usage: String,
    default: Value,
    value: Value,
    set: bool,
    validator: Option<Validator>,
}

/// A set of declared flags, for `docker` itself or for one subcommand.
#[derive(Debug)]
pub struct FlagSet {
    name: String,
    flags: Vec<Flag>,
    /// Declared name without `#` (`"d"`, `"-daemon"`) → index into `flags`; this is what the
    /// command line is matched against after its first dash is removed.
    by_name: HashMap<String, usize>,
}

impl FlagSet {
    pub fn new(name: &str) -> Self {
        FlagSet { name: name.to_string(), flags: Vec::new(), by_name: HashMap::new() }
    }

    pub fn bool(&mut self, names: &[&str], default: bool, usage: &str) {
        self.define(names, Value::Bool(default), usage);
    }

    pub fn string(&mut self, names: &[&str], default: &str, usage: &str) {
        self.define(names, Value::Str(default.to_string()), usage);
    }

    pub fn int(&mut self, names: &[&str], default: i64, usage: &str) {
        self.define(names, Value::Int(default), usage);
    }

    /// A repeatable flag; each occurrence appends. Its default is always empty.
    pub fn list(&mut self, names: &[&str], usage: &str) {
        self.define(names, Value::List(Vec::new()), usage);
    }

    /// Attaches a validator to the flag that has `name` among its names. `name` is looked up like
    /// the getters do, so `"bip"`, `"-bip"` and `"--bip"` are all accepted.
    pub fn validator(&mut self, name: &str, v: fn(&str) -> Result<String, String>) {
        let idx = self.find(name);
        self.flags[idx].validator = Some(v);
    }

    fn define(&mut self, names: &[&str], default: Value, usage: &str) {
        let idx = self.flags.len();
        for name in names {
            let key = name.strip_prefix('#').unwrap_or(name);
            assert!(!key.is_empty() && key != "-", "{}: empty flag name in {names:?}", self.name);
            // The original panicked too: only a programming error can get here.
            if self.by_name.insert(key.to_string(), idx).is_some() {
                panic!("{} flag redefined: {key}", self.name);
            }
        }
        self.flags.push(Flag {
            names: names.iter().map(|n| n.to_string()).collect(),
            usage: usage.to_string(),
            value: default.clone(),
            default,
            set: false,
            validator: None,
        });
    }

    /// Parses `args` (without the program or subcommand name) and returns the positional
    /// arguments that follow the flags.
    pub fn parse<I: IntoIterator<Item = String>>(&mut self, args: I) -> Result<Vec<String>, ParseError> {
        let mut rest: VecDeque<String> = args.into_iter().collect();
        while let Some(arg) = rest.pop_front() {
            if arg.len() < 2 || !arg.starts_with('-') {
                rest.push_front(arg);
                break;
            }
            if arg == "--" {
                break;
            }
            let bare = arg.strip_prefix("--").unwrap_or(&arg[1..]);
            if bare.is_empty() || bare.starts_with(['-', '=']) {
                return Err(invalid(format!("bad flag syntax: {arg}")));
            }
            // `name` keeps the second dash of a long flag, matching the keys of `by_name`.
            let (name, value) = match arg[1..].split_once('=') {
                Some((n, v)) => (n, Some(trim_quotes(v).to_string())),
                None => (&arg[1..], None),
            };
            if let Some(&idx) = self.by_name.get(name) {
                self.apply(idx, name, value, &mut rest)?;
            } else if matches!(name, "h" | "help" | "-help") {
                return Err(ParseError::Help);
            } else if name.starts_with('-') || name.chars().count() < 2 {
                return Err(invalid(format!("flag provided but not defined: -{name}")));
            } else {
                self.apply_group(name, value, &mut rest)?;
            }
        }
        Ok(rest.into())
    }

    /// `-dD`: every letter must be a declared single-letter flag, all but the last a bool.
    fn apply_group(
        &mut self,
        word: &str,
        value: Option<String>,
        rest: &mut VecDeque<String>,
    ) -> Result<(), ParseError> {
        let letters: Vec<String> = word.chars().map(String::from).collect();
        let mut indices = Vec::with_capacity(letters.len());
        for (n, letter) in letters.iter().enumerate() {
            let idx = self.by_name.get(letter.as_str()).copied();
            match idx {
                Some(idx) if n + 1 == letters.len() || matches!(self.flags[idx].value, Value::Bool(_)) => {
                    indices.push(idx)
                }
                _ => return Err(invalid(format!("flag provided but not defined: -{word}"))),
            }
        }
        let last = letters.len() - 1;
        for (n, (letter, idx)) in letters.iter().zip(indices).enumerate() {
            let v = if n == last { value.clone() } else { None };
            self.apply(idx, letter, v, rest)?;
        }
        Ok(())
    }

    /// Sets flag `idx`, given on the command line as `-{name}`, taking its value from `value` or,
    /// for a non-bool, from the next argument.
    fn apply(
        &mut self,
        idx: usize,
        name: &str,
        value: Option<String>,
        rest: &mut VecDeque<String>,
    ) -> Result<(), ParseError> {
        let flag = &mut self.flags[idx];
        let is_bool = matches!(flag.value, Value::Bool(_));
        let raw = match value {
            Some(v) => v,
            None if is_bool => "true".to_string(),
            None => rest.pop_front().ok_or_else(|| invalid(format!("flag needs an argument: -{name}")))?,
        };
        let bad = |reason: String| invalid(format!("invalid value {} for flag -{name}: {reason}", go_quote(&raw)));
        let text = match flag.validator {
            Some(validate) => validate(&raw).map_err(bad)?,
            None => raw.clone(),
        };
        match &mut flag.value {
            Value::Bool(b) => *b = parse_bool(&text).map_err(bad)?,
            Value::Int(n) => *n = parse_int(&text).map_err(bad)?,
            Value::Str(s) => *s = text,
            Value::List(l) => l.push(text),
        }
        flag.set = true;

        let hidden = format!("#{name}");
        if let Some(pos) = flag.names.iter().position(|n| *n == hidden) {
            match flag.names[pos + 1..].iter().find(|n| !n.starts_with('#')) {
                Some(r) => {
                    eprintln!("Warning: '-{name}' is deprecated, it will be replaced by '-{r}' soon. See usage.")
                }
                None => eprintln!("Warning: '-{name}' is deprecated, it will be removed soon. See usage."),
            }
        }
        Ok(())
    }

    /// Index of the flag called `name`: an exact declared name (after one leading dash) wins,
    /// otherwise names are compared with all `#` and dashes stripped. Unknown names are a bug in
    /// the caller, hence the panic.
    fn find(&self, name: &str) -> usize {
        let one = name.strip_prefix('-').unwrap_or(name);
        if let Some(&idx) = self.by_name.get(one) {
            return idx;
        }
        let strip = |s: &str| s.trim_start_matches('#').trim_start_matches('-').to_string();
        let wanted = strip(name);
        self.flags
            .iter()
            .position(|f| f.names.iter().any(|n| strip(n) == wanted))
            .unwrap_or_else(|| panic!("{}: no flag named {name:?} was declared", self.name))
    }

    fn get<T>(&self, name: &str, kind: &str, pick: impl FnOnce(&Value) -> Option<T>) -> T {
        let value = &self.flags[self.find(name)].value;
        pick(value).unwrap_or_else(|| panic!("{}: flag {name:?} is not a {kind} flag: {value:?}", self.name))
    }

    pub fn get_bool(&self, name: &str) -> bool {
        self.get(name, "bool", |v| if let Value::Bool(b) = v { Some(*b) } else { None })
    }

    pub fn get_string(&self, name: &str) -> String {
        self.get(name, "string", |v| if let Value::Str(s) = v { Some(s.clone()) } else { None })
    }

    pub fn get_int(&self, name: &str) -> i64 {
        self.get(name, "int", |v| if let Value::Int(n) = v { Some(*n) } else { None })
    }

    pub fn get_list(&self, name: &str) -> Vec<String> {
        self.get(name, "list", |v| if let Value::List(l) = v { Some(l.clone()) } else { None })
    }

    /// Whether the command line gave this flag (under any of its names).
    // Part of mflag's API; client commands whose flags change meaning when
    // given explicitly (run's `-h`) are the users, and they land later.
    #[allow(dead_code)]
    pub fn is_set(&self, name: &str) -> bool {
        self.flags[self.find(name)].set
    }

    /// The flag listing of `docker COMMAND --help`, one line per visible flag plus continuation
    /// lines for multi-line usage texts, each ending in `\n`.
    pub fn usage(&self) -> String {
        let sort_key = |f: &Flag| {
            let first = f.names.first().map_or("", |n| n.trim_start_matches('#'));
            let first = first.strip_prefix('-').unwrap_or(first);
            (first.to_lowercase(), first.to_string())
        };
        let mut flags: Vec<&Flag> = self.flags.iter().collect();
        flags.sort_by_cached_key(|f| sort_key(f));

        let mut rows: Vec<(String, &str)> = Vec::new();
        for f in flags {
            let visible: Vec<String> =
                f.names.iter().filter(|n| !n.starts_with('#')).map(|n| format!("-{n}")).collect();
            if visible.is_empty() {
                continue;
            }
            let default = match &f.default {
                Value::Bool(b) => b.to_string(),
                Value::Int(n) => n.to_string(),
                Value::Str(s) => go_quote(s),
                // Go's %v of a []string.
                Value::List(l) => format!("[{}]", l.join(" ")),
            };
            rows.push((format!("  {}={default}", visible.join(", ")), &f.usage));
        }

        // Go's tabwriter.NewWriter(w, 20, 1, 3, ' ', 0): one column as wide as the widest cell
        // plus 3, at least 20; the usage text then starts after Fprintln's separating space.
        let widest = rows.iter().map(|(cell, _)| cell.chars().count()).max().unwrap_or(0);
        let width = (widest + 3).max(20);
        let mut out = String::new();
        for (cell, usage) in rows {
            for (n, line) in usage.split('\n').enumerate() {
                let (cell, indent) = if n == 0 { (cell.as_str(), "") } else { ("", "  ") };
                out.push_str(&format!("{cell:<width$} {indent}{line}\n"));
            }
        }
        out
    }
}

fn invalid(msg: String) -> ParseError {
    ParseError::Invalid(msg)
}

/// mflag's `trimQuotes`: strip one pair of matching outer quotes from an `=value`.
fn trim_quotes(s: &str) -> &str {
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return &s[1..s.len() - 1];
        }
    }
    s
}

/// Go's `strconv.ParseBool`, with its error text.
fn parse_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("strconv.ParseBool: parsing {}: invalid syntax", go_quote(s))),
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)` as of Go 1.3: optional sign, then `0x` hex, `0` octal or
/// decimal; no underscores, no `0b`/`0o`.
fn parse_int(s: &str) -> Result<i64, String> {
    let fail = |why: &str| format!("strconv.ParseInt: parsing {}: {why}", go_quote(s));
    let (neg, unsigned) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if let Some(hex) = unsigned.strip_prefix("0x").or_else(|| unsigned.strip_prefix("0X")) {
        (16, hex)
    } else if unsigned.starts_with('0') {
        (8, unsigned)
    } else {
        (10, unsigned)
    };
    // from_str_radix would accept a second sign, so check the digits ourselves.
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(fail("invalid syntax"));
    }
    let magnitude = u64::from_str_radix(digits, radix).map_err(|_| fail("value out of range"))?;
    let limit = 1u64 << 63;
    match (neg, magnitude) {
        (false, m) if m < limit => Ok(m as i64),
        (true, m) if m <= limit => Ok((m as i64).wrapping_neg()),
        _ => Err(fail("value out of range")),
    }
}

/// Go's `%q` / `strconv.Quote`, close enough for flag values and defaults.
fn go_quote(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0b' => out.push_str("\\v"),
            '\x0c' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn daemon_flags() -> FlagSet {
        let mut f = FlagSet::new("docker");
        f.bool(&["d", "-daemon"], false, "Enable daemon mode");
        f.bool(&["D", "-debug"], false, "Enable debug mode");
        f.bool(&["#iptables", "-iptables"], true, "Enable Docker's addition of iptables rules");
        f.bool(&["#r", "#-restart"], true, "Restart previously running containers");
        f.bool(&["-tls"], false, "Use TLS");
        f.list(&["H", "-host"], "The socket(s) to bind to in daemon mode\nspecified using one or more");
        f.string(&["g", "-graph"], "/var/lib/docker", "Path to use as the root of the Docker runtime");
        f.int(&["#mtu", "-mtu"], 0, "Set the containers network MTU");
        f.string(&["#bip", "-bip"], "", "Use this CIDR notation address for the network bridge's IP");
        f
    }

    fn run(f: &mut FlagSet, args: &[&str]) -> Result<Vec<String>, ParseError> {
        f.parse(args.iter().map(|s| s.to_string()))
    }

    fn err(args: &[&str]) -> String {
        match run(&mut daemon_flags(), args) {
            Err(ParseError::Invalid(msg)) => msg,
            other => panic!("expected an error for {args:?}, got {other:?}"),
        }
    }

    #[test]
    fn long_and_short_names_with_both_value_syntaxes() {
        let mut f = daemon_flags();
        let rest = run(&mut f, &["-d", "--debug", "-g=/a", "--graph", "/b", "-H", "unix:///x", "--host=tcp://h"]);
        assert_eq!(rest.unwrap(), Vec::<String>::new());
        assert!(f.get_bool("daemon") && f.get_bool("-D") && f.get_bool("--debug"));
        assert_eq!(f.get_string("g"), "/b", "last value wins");
        assert_eq!(f.get_list("--host"), ["unix:///x", "tcp://h"]);
        assert!(f.is_set("-graph") && !f.is_set("tls"));
        assert_eq!(f.get_string("-g"), "/b");
    }

    #[test]
    fn bool_values_and_defaults() {
        let mut f = daemon_flags();
        run(&mut f, &["--tls=true", "-d=false", "--iptables=F", "--debug=1"]).unwrap();
        assert!(f.get_bool("tls") && !f.get_bool("d") && !f.get_bool("iptables") && f.get_bool("D"));
        assert!(f.is_set("d"));
        assert!(f.get_bool("restart") && !f.is_set("restart"), "default kept");
        assert_eq!(f.get_string("graph"), "/var/lib/docker");
        // A bool never takes the next argument.
        let mut f = daemon_flags();
        assert_eq!(run(&mut f, &["-d", "false"]).unwrap(), ["false"]);
    }

    #[test]
    fn quoted_equals_value_is_unquoted() {
        let mut f = daemon_flags();
        run(&mut f, &["-g=\"/q\"", "--bip='10.0.0.1/8'"]).unwrap();
        assert_eq!(f.get_string("g"), "/q");
        assert_eq!(f.get_string("bip"), "10.0.0.1/8");
    }

    #[test]
    fn grouped_letters() {
        let mut f = daemon_flags();
        run(&mut f, &["-dD"]).unwrap();
        assert!(f.get_bool("d") && f.get_bool("D"));
        // The last letter may take a value.
        let mut f = daemon_flags();
        run(&mut f, &["-dH", "unix:///s", "-Dd=false"]).unwrap();
        assert_eq!(f.get_list("H"), ["unix:///s"]);
        assert!(f.get_bool("D") && !f.get_bool("d"));
        assert_eq!(err(&["-Hd", "x"]), "flag provided but not defined: -Hd");
        assert_eq!(err(&["-dx"]), "flag provided but not defined: -dx");
        assert_eq!(err(&["-dH"]), "flag needs an argument: -H");
    }

    #[test]
    fn deprecated_aliases_still_work() {
        let mut f = daemon_flags();
        let rest = run(&mut f, &["-iptables=false", "-r=false", "-mtu", "1400", "ps"]).unwrap();
        assert_eq!(rest, ["ps"]);
        assert!(!f.get_bool("--iptables") && !f.get_bool("restart"));
        assert_eq!(f.get_int("mtu"), 1400);
        assert!(f.is_set("-mtu"));
    }

    #[test]
    fn undeclared_flags() {
        assert_eq!(err(&["-tls"]), "flag provided but not defined: -tls");
        assert_eq!(err(&["-x"]), "flag provided but not defined: -x");
        assert_eq!(err(&["--nope=1"]), "flag provided but not defined: --nope");
        assert_eq!(err(&["--d"]), "flag provided but not defined: --d");
        assert_eq!(err(&["---x"]), "bad flag syntax: ---x");
        assert_eq!(err(&["-=x"]), "bad flag syntax: -=x");
    }

    #[test]
    fn missing_argument() {
        assert_eq!(err(&["-H"]), "flag needs an argument: -H");
        assert_eq!(err(&["-d", "--graph"]), "flag needs an argument: --graph");
    }

    #[test]
    fn invalid_values() {
        assert_eq!(
            err(&["--mtu=abc"]),
            r#"invalid value "abc" for flag --mtu: strconv.ParseInt: parsing "abc": invalid syntax"#
        );
        assert_eq!(
            err(&["--tls=maybe"]),
            r#"invalid value "maybe" for flag --tls: strconv.ParseBool: parsing "maybe": invalid syntax"#
        );
        assert_eq!(
            err(&["-mtu", "9223372036854775808"]),
            r#"invalid value "9223372036854775808" for flag -mtu: strconv.ParseInt: parsing "9223372036854775808": value out of range"#
        );
    }

    #[test]
    fn go_int_syntax() {
        assert_eq!(parse_int("0x1F"), Ok(31));
        assert_eq!(parse_int("017"), Ok(15));
        assert_eq!(parse_int("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(parse_int("+7"), Ok(7));
        for bad in ["", "-", "0x", "08", "+-1", "1_000", "0b1"] {
            assert!(parse_int(bad).unwrap_err().ends_with("invalid syntax"), "{bad}");
        }
    }

    #[test]
    fn validators_normalise_and_reject() {
        fn cidr(s: &str) -> Result<String, String> {
            if s.contains('/') { Ok(s.trim().to_lowercase()) } else { Err(format!("{s} is not a CIDR")) }
        }
        let mut f = daemon_flags();
        f.validator("-bip", cidr);
        f.validator("H", cidr);
        run(&mut f, &["--bip", " FE80::1/64", "-H=A/1", "-H", "B/2"]).unwrap();
        assert_eq!(f.get_string("bip"), "fe80::1/64");
        assert_eq!(f.get_list("host"), ["a/1", "b/2"]);

        let mut f = daemon_flags();
        f.validator("bip", cidr);
        assert_eq!(
            run(&mut f, &["--bip=10.0.0.1"]),
            Err(ParseError::Invalid(r#"invalid value "10.0.0.1" for flag --bip: 10.0.0.1 is not a CIDR"#.into()))
        );
    }

    #[test]
    fn stops_at_first_positional_and_after_double_dash() {
        let mut f = daemon_flags();
        assert_eq!(run(&mut f, &["-d", "run", "-D"]).unwrap(), ["run", "-D"]);
        assert!(!f.get_bool("D"));
        let mut f = daemon_flags();
        assert_eq!(run(&mut f, &["-d", "--", "-D", "x"]).unwrap(), ["-D", "x"]);
        let mut f = daemon_flags();
        assert_eq!(run(&mut f, &["-d", "-", "-D"]).unwrap(), ["-", "-D"]);
        let mut f = daemon_flags();
        assert_eq!(run(&mut f, &["-g", "-D", "x"]).unwrap(), ["x"], "a value may look like a flag");
        assert_eq!(f.get_string("g"), "-D");
    }

    #[test]
    fn help_unless_declared() {
        for h in ["-h", "--help", "-help", "-h=1"] {
            assert_eq!(run(&mut daemon_flags(), &["-d", h, "x"]), Err(ParseError::Help), "{h}");
        }
        let mut f = FlagSet::new("run");
        f.string(&["h", "-hostname"], "", "Container host name");
        run(&mut f, &["-h", "box"]).unwrap();
        assert_eq!(f.get_string("hostname"), "box");
        assert_eq!(run(&mut f, &["--help"]), Err(ParseError::Help));
        assert_eq!(ParseError::Help.to_string(), "flag: help requested");
    }

    #[test]
    fn usage_listing() {
        let usage = daemon_flags().usage();
        let lines: Vec<&str> = usage.lines().collect();
        // Widest cell is `  -g, --graph="/var/lib/docker"` (31 chars) + 3 padding, then a space.
        let row = |cell: &str, text: &str| format!("{cell:<34} {text}");
        let bip = "Use this CIDR notation address for the network bridge's IP";
        assert_eq!(lines[0], row("  --bip=\"\"", bip));
        assert_eq!(lines[1], row("  -D, --debug=false", "Enable debug mode"), "-D before -d");
        assert_eq!(lines[2], row("  -d, --daemon=false", "Enable daemon mode"));
        assert_eq!(lines[3], row("  -g, --graph=\"/var/lib/docker\"", "Path to use as the root of the Docker runtime"));
        assert_eq!(lines[4], row("  -H, --host=[]", "The socket(s) to bind to in daemon mode"));
        assert_eq!(lines[5], row("", "  specified using one or more"));
        assert_eq!(lines[6], row("  --iptables=true", "Enable Docker's addition of iptables rules"));
        assert_eq!(lines[7], row("  --mtu=0", "Set the containers network MTU"));
        assert_eq!(lines[8], row("  --tls=false", "Use TLS"));
        assert_eq!(lines.len(), 9, "all-hidden --restart is not listed");

        let mut f = FlagSet::new("events");
        f.string(&["#since", "-since"], "", "Show all events created since timestamp");
        assert_eq!(f.usage(), "  --since=\"\"         Show all events created since timestamp\n", "min width 20");
    }

    #[test]
    #[should_panic(expected = "no flag named \"nope\"")]
    fn unknown_getter_name_panics() {
        daemon_flags().get_bool("nope");
    }

    #[test]
    #[should_panic(expected = "is not a bool flag")]
    fn wrong_kind_getter_panics() {
        daemon_flags().get_bool("graph");
    }
}
