//! Application tags in SQL comments: sqlcommenter (`/*controller='orders',action='index'*/`),
//! Rails query log tags (`/*application:Shop,controller:orders,action:index*/`) and
//! marginalia. The fingerprint ignores comments; findings name the endpoint from them.

/// `orders#index`, a route, or a framework endpoint; `None` when no known key is there.
pub fn endpoint(sql: &str) -> Option<String> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut rest = sql;
    while let Some(start) = rest.find("/*") {
        let body = &rest[start + 2..];
        let Some(end) = body.find("*/") else { break };
        for item in body[..end].split(',') {
            let item = item.trim();
            let (k, v) = match item.split_once('=') {
                Some(kv) => kv,
                None => match item.split_once(':') {
                    Some(kv) => kv,
                    None => continue,
                },
            };
            let v = v.trim().trim_matches('\'').trim_matches('"');
            let v = percent_decode(v);
            pairs.push((k.trim().to_ascii_lowercase(), v));
        }
        rest = &body[end + 2..];
    }
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, v)| key == k && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    match (get("controller"), get("action")) {
        (Some(c), Some(a)) => return Some(format!("{c}#{a}")),
        (Some(c), None) => return Some(c),
        _ => {}
    }
    get("route")
        .or_else(|| get("endpoint"))
        .or_else(|| get("job"))
        .or_else(|| get("path"))
}

/// Rules silenced by a `qperf:ignore` comment in the statement (`/* qperf:ignore
/// n-plus-one, select-star */` or `-- qperf:ignore`); `*` for all rules.
pub fn inline_ignores(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = sql;
    while let Some(p) = rest.find("qperf:ignore") {
        let after = &rest[p + "qperf:ignore".len()..];
        let end = after
            .find("*/")
            .or_else(|| after.find('\n'))
            .unwrap_or(after.len());
        let list: Vec<String> = after[..end]
            .split([',', ' '])
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        if list.is_empty() {
            out.push("*".to_string());
        } else {
            out.extend(list);
        }
        rest = &after[end..];
    }
    out
}

/// `%XX` escapes decoded (sqlcommenter values, URL parts); anything else kept as it is.
/// Byte by byte: a `%` before a multi-byte character is not an escape (slicing the text
/// there panicked on such a log line).
pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |i: usize| b.get(i).and_then(|&c| char::from(c).to_digit(16));
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (hex(i + 1), hex(i + 2))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::{endpoint, percent_decode};

    #[test]
    fn percent_escapes_decode_and_odd_ones_stay() {
        assert_eq!(
            percent_decode("orders%23index%2Fv%C3%A9"),
            "orders#index/vé"
        );
        // Not escapes: a `%` before a multi-byte character, too few digits, a sign.
        for s in ["%aé", "%é", "a%", "%4", "%+1", "%zz", "100%"] {
            assert_eq!(percent_decode(s), s);
        }
        assert_eq!(
            endpoint("SELECT 1 /*controller='%aéx',action='show'*/").as_deref(),
            Some("%aéx#show")
        );
    }

    #[test]
    fn inline_ignore_comments() {
        use super::inline_ignores;
        assert_eq!(
            inline_ignores("SELECT * FROM t /* qperf:ignore select-star, n-plus-one */"),
            vec!["select-star", "n-plus-one"]
        );
        assert_eq!(inline_ignores("SELECT 1 -- qperf:ignore"), vec!["*"]);
        assert!(inline_ignores("SELECT 1 /* app */").is_empty());
    }

    #[test]
    fn sqlcommenter_and_rails() {
        assert_eq!(
            endpoint("SELECT 1 /*controller='orders',action='index',traceparent='00-ab-cd-01'*/")
                .as_deref(),
            Some("orders#index")
        );
        assert_eq!(
            endpoint("/*application:Shop,controller:users,action:show*/ SELECT 1").as_deref(),
            Some("users#show")
        );
        assert_eq!(
            endpoint("SELECT 1 /*route='%2Fapi%2Forders',framework='flask'*/").as_deref(),
            Some("/api/orders")
        );
        assert_eq!(endpoint("SELECT 1 /* just a comment */"), None);
    }
}
