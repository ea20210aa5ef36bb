//! This session's input history, for `history_request` (tail, range and search).

use serde_json::{json, Value};

/// Our session number in history replies (there is only this session).
pub const SESSION: i64 = 1;

/// Inputs (and their text outputs) by execution count.
#[derive(Debug, Default)]
pub struct History {
    entries: Vec<(i64, String, String)>,
}

impl History {
    /// Records one executed cell.
    pub fn push(&mut self, line: i64, input: &str, output: &str) {
        self.entries
            .push((line, input.to_owned(), output.to_owned()));
    }

    /// Answers a `history_request` content with the `history` list of the reply.
    pub fn query(&self, request: &Value) -> Vec<Value> {
        let output = request["output"].as_bool().unwrap_or(false);
        let n = request["n"].as_u64().map(|n| n as usize);
        let selected: Vec<&(i64, String, String)> = match request["hist_access_type"].as_str() {
            Some("range") => {
                let start = request["start"].as_i64().unwrap_or(0);
                let stop = request["stop"]
                    .as_i64()
                    .filter(|&s| s > 0)
                    .unwrap_or(i64::MAX);
                self.entries
                    .iter()
                    .filter(|(line, ..)| *line >= start && *line < stop)
                    .collect()
            }
            Some("search") => {
                let pattern = request["pattern"].as_str().unwrap_or("*");
                let unique = request["unique"].as_bool().unwrap_or(false);
                let mut hits: Vec<&(i64, String, String)> = Vec::new();
                for entry in self.entries.iter().rev() {
                    if glob_match(pattern, &entry.1)
                        && !(unique && hits.iter().any(|h| h.1 == entry.1))
                    {
                        hits.push(entry);
                    }
                }
                hits.truncate(n.unwrap_or(usize::MAX));
                hits.reverse();
                hits
            }
            _ => {
                let n = n.unwrap_or(self.entries.len()).min(self.entries.len());
                self.entries[self.entries.len() - n..].iter().collect()
            }
        };
        selected
            .into_iter()
            .map(|(line, input, out)| {
                if output {
                    json!([SESSION, line, [input, out]])
                } else {
                    json!([SESSION, line, input])
                }
            })
            .collect()
    }
}

/// Glob match with `*` (any run) and `?` (one character), as IPython's history search does.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> History {
        let mut h = History::default();
        h.push(1, "1 + 1", "2");
        h.push(2, "let x = 3;", "");
        h.push(3, "1 + 1", "2");
        h
    }

    #[test]
    fn tail_range_search() {
        let h = sample();
        let tail = h.query(&json!({"hist_access_type": "tail", "n": 2, "output": false}));
        assert_eq!(
            tail,
            vec![json!([1, 2, "let x = 3;"]), json!([1, 3, "1 + 1"])]
        );
        let range =
            h.query(&json!({"hist_access_type": "range", "start": 2, "stop": 3, "output": true}));
        assert_eq!(range, vec![json!([1, 2, ["let x = 3;", ""]])]);
        let all = h.query(&json!({"hist_access_type": "search", "pattern": "1*"}));
        assert_eq!(all.len(), 2);
        let unique =
            h.query(&json!({"hist_access_type": "search", "pattern": "1*", "unique": true}));
        assert_eq!(unique, vec![json!([1, 3, "1 + 1"])]);
    }

    #[test]
    fn globs() {
        assert!(glob_match("*x*", "let x = 3;"));
        assert!(glob_match("1 ? 1", "1 + 1"));
        assert!(!glob_match("2*", "1 + 1"));
    }
}
