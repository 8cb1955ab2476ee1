//! Hand-rolled option parsing: `--name value`, `--name=value` and bare `--flag`s.

use crate::error::Failure;
use std::net::IpAddr;
use std::str::FromStr;

pub struct Options {
    command: &'static str,
    values: Vec<(String, String)>,
    flags: Vec<String>,
}

impl Options {
    /// Parses `args` (everything after the command name). `valued` lists the options that take a
    /// value, `flags` the ones that do not; anything else is a usage error.
    pub fn parse(
        command: &'static str,
        args: &[String],
        valued: &[&str],
        flags: &[&str],
    ) -> Result<Self, Failure> {
        let mut options = Options {
            command,
            values: Vec::new(),
            flags: Vec::new(),
        };
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            let Some(body) = arg.strip_prefix("--") else {
                return Err(Failure::usage(format!(
                    "{command}: unexpected argument {arg:?}"
                )));
            };
            let (name, inline) = match body.split_once('=') {
                Some((name, value)) => (name, Some(value.to_string())),
                None => (body, None),
            };
            if flags.contains(&name) && inline.is_none() {
                options.flags.push(name.to_string());
            } else if valued.contains(&name) {
                let value = match inline {
                    Some(value) => value,
                    None => rest.next().cloned().ok_or_else(|| {
                        Failure::usage(format!("{command}: --{name} needs a value"))
                    })?,
                };
                options.values.push((name.to_string(), value));
            } else {
                return Err(Failure::usage(format!(
                    "{command}: unknown option --{name}"
                )));
            }
        }
        Ok(options)
    }

    /// The last value given for `name`.
    fn raw(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }

    pub fn get<T: FromStr>(&self, name: &str) -> Result<Option<T>, Failure> {
        match self.raw(name) {
            None => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| {
                Failure::usage(format!("{}: --{name} {text:?} is not valid", self.command))
            }),
        }
    }

    pub fn get_or<T: FromStr>(&self, name: &str, default: T) -> Result<T, Failure> {
        Ok(self.get(name)?.unwrap_or(default))
    }

    pub fn required<T: FromStr>(&self, name: &str) -> Result<T, Failure> {
        self.get(name)?
            .ok_or_else(|| Failure::usage(format!("{}: --{name} is required", self.command)))
    }

    pub fn ip(&self, name: &str) -> Result<IpAddr, Failure> {
        // Accept the bracketed form people paste from URLs too: [2001:2::1].
        let text: String = self.required(name)?;
        let bare = text.trim_start_matches('[').trim_end_matches(']');
        bare.parse().map_err(|_| {
            Failure::usage(format!(
                "{}: --{name} {text:?} is not an IPv4 or IPv6 address",
                self.command
            ))
        })
    }

    /// A comma-separated list, e.g. `--sizes 18,64,1472`.
    pub fn list<T: FromStr>(&self, name: &str) -> Result<Option<Vec<T>>, Failure> {
        let Some(text) = self.raw(name) else {
            return Ok(None);
        };
        text.split(',')
            .map(|item| {
                item.trim().parse().map_err(|_| {
                    Failure::usage(format!(
                        "{}: --{name} item {item:?} is not valid",
                        self.command
                    ))
                })
            })
            .collect::<Result<Vec<T>, Failure>>()
            .map(Some)
    }

    /// `--seconds`, defaulting so no command runs unbounded: `when_counted` if `--count` was
    /// given (the count normally ends the run first), else `otherwise`. Must be > 0.
    pub fn seconds(&self, when_counted: f64, otherwise: f64) -> Result<f64, Failure> {
        let default = if self.raw("count").is_some() {
            when_counted
        } else {
            otherwise
        };
        let seconds: f64 = self.get_or("seconds", default)?;
        if !(seconds.is_finite() && seconds > 0.0) {
            return Err(Failure::usage(format!(
                "{}: --seconds must be a positive number",
                self.command
            )));
        }
        Ok(seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_values_flags_and_lists() {
        let o = Options::parse(
            "t",
            &args(&[
                "--dst",
                "[2001:2::1]",
                "--sizes=18,64",
                "--verify",
                "--port",
                "9",
            ]),
            &["dst", "sizes", "port"],
            &["verify"],
        )
        .unwrap();
        assert_eq!(o.ip("dst").unwrap().to_string(), "2001:2::1");
        assert_eq!(o.list::<usize>("sizes").unwrap(), Some(vec![18, 64]));
        assert!(o.has("verify"));
        assert_eq!(o.required::<u16>("port").unwrap(), 9);
        assert!(o.required::<u16>("count").is_err());
    }

    #[test]
    fn rejects_unknown_and_missing_values() {
        assert!(Options::parse("t", &args(&["--nope"]), &[], &[]).is_err());
        assert!(Options::parse("t", &args(&["--port"]), &["port"], &[]).is_err());
        assert!(Options::parse("t", &args(&["port"]), &["port"], &[]).is_err());
    }
}
