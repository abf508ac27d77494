//! Request and response heads read back from the bytes that crossed the wire, so that what
//! trace shows is what was sent and received, not what hyper's types make of it (hyper
//! lowercases header names and keeps no reason phrase for the status line as written).

/// Splits one head (start line and header lines) off `buf`: the head without its blank
/// line, and what follows. Bare `\n` line ends are accepted, as HTTP parsers do.
pub fn split(buf: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut start = 0;
    while let Some(nl) = buf[start..].iter().position(|&b| b == b'\n') {
        let line = &buf[start..start + nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() && start > 0 {
            return Some((&buf[..start], &buf[start + nl + 1..]));
        }
        start += nl + 1;
    }
    None
}

/// The start line and the header lines of a head, each header as (name, value) with the
/// value trimmed; obsolete folded lines are joined to the header they continue.
pub fn lines(head: &[u8]) -> (String, Vec<(String, String)>) {
    let text = String::from_utf8_lossy(head);
    let mut it = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let start = it.next().unwrap_or_default().to_string();
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in it.filter(|l| !l.is_empty()) {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) => headers.push((name.to_string(), value.trim().to_string())),
            None => headers.push((line.to_string(), String::new())),
        }
    }
    (start, headers)
}

/// The response head that answers the request: interim 1xx heads (100 Continue, 103
/// Early Hints) come first and are skipped, as hyper skips them. `101` is final.
pub fn final_response(mut buf: &[u8]) -> Option<(String, Vec<(String, String)>)> {
    loop {
        let (head, rest) = split(buf)?;
        let (start, headers) = lines(head);
        let code = start.split(' ').nth(1).unwrap_or_default();
        if code.len() == 3 && code.starts_with('1') && code != "101" {
            buf = rest;
            continue;
        }
        return Some((start, headers));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_split_at_the_blank_line() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: b\r\n\r\nhi";
        let (head, rest) = split(raw).unwrap();
        assert_eq!(rest, b"hi");
        let (start, headers) = lines(head);
        assert_eq!(start, "HTTP/1.1 200 OK");
        assert_eq!(
            headers,
            [
                ("Content-Length".to_string(), "2".to_string()),
                ("X-A".into(), "b".into())
            ]
        );
        assert_eq!(split(b"HTTP/1.1 200 OK\r\nA: b\r\n"), None);
    }

    #[test]
    fn bare_newlines_and_folded_lines() {
        let raw = b"HTTP/1.0 404 Not Found\nA: one\n  two\nB:three\n\nbody";
        let (start, headers) = final_response(raw).unwrap();
        assert_eq!(start, "HTTP/1.0 404 Not Found");
        assert_eq!(
            headers,
            [("A".into(), "one two".into()), ("B".into(), "three".into())]
        );
    }

    #[test]
    fn interim_responses_are_skipped() {
        let raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nX: y\r\n\r\n";
        let (start, headers) = final_response(raw).unwrap();
        assert_eq!(start, "HTTP/1.1 201 Created");
        assert_eq!(headers, [("X".into(), "y".into())]);
        let (start, _) = final_response(b"HTTP/1.1 101 Switching Protocols\r\n\r\n").unwrap();
        assert!(start.contains("101"));
    }
}
