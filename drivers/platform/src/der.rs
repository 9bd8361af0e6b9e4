//! Minimal DER: walking tag-length-value on a slice, and writing TLVs. Only what the CRL
//! reader and writer need (single-byte tags, definite lengths up to 4 GiB).

/// One TLV: its tag, its content, and what follows it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub rest: &'a [u8],
}

/// Decodes a length after the tag byte: `(length, bytes used)`.
pub(crate) fn length(bytes: &[u8]) -> Option<(usize, usize)> {
    let first = *bytes.first()?;
    if first < 0x80 {
        return Some((usize::from(first), 1));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 || bytes.len() < 1 + n {
        return None; // indefinite (BER) or too long
    }
    let mut len = 0usize;
    for &b in &bytes[1..=n] {
        len = (len << 8) | usize::from(b);
    }
    // DER: the shortest form.
    if len < 0x80 || bytes[1] == 0 {
        return None;
    }
    Some((len, 1 + n))
}

pub(crate) fn tlv(buf: &[u8]) -> Option<Tlv<'_>> {
    let tag = *buf.first()?;
    if tag & 0x1f == 0x1f {
        return None; // multi-byte tags never appear where we look
    }
    let (len, used) = length(&buf[1..])?;
    let start = 1 + used;
    let end = start.checked_add(len)?;
    if end > buf.len() {
        return None;
    }
    Some(Tlv { tag, content: &buf[start..end], rest: &buf[end..] })
}

/// Appends a DER length.
pub(crate) fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Appends tag, length and content.
pub(crate) fn push_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    push_len(out, content.len());
    out.extend_from_slice(content);
}

pub(crate) fn tlv_vec(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    push_tlv(&mut out, tag, content);
    out
}

/// The content octets of a positive INTEGER with these magnitude bytes.
pub(crate) fn integer_content(magnitude: &[u8]) -> Vec<u8> {
    let trimmed: &[u8] = {
        let skip = magnitude.iter().take_while(|&&b| b == 0).count();
        &magnitude[skip.min(magnitude.len().saturating_sub(1))..]
    };
    let mut out = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|&b| b & 0x80 != 0) {
        out.push(0);
    }
    out.extend_from_slice(trimmed);
    if out.is_empty() {
        out.push(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_round_trip_and_reject_non_der() {
        for n in [0usize, 1, 127, 128, 255, 256, 65_535, 70_000, 16_777_216] {
            let mut v = vec![0x04];
            push_len(&mut v, n);
            v.resize(v.len() + n, 0);
            let t = tlv(&v).unwrap();
            assert_eq!(t.content.len(), n);
            assert!(t.rest.is_empty());
        }
        assert!(tlv(&[0x30, 0x80, 0, 0]).is_none(), "indefinite length");
        assert!(tlv(&[0x30, 0x81, 0x05, 0, 0, 0, 0, 0]).is_none(), "non-minimal length");
        assert!(tlv(&[0x30, 0x05, 0]).is_none(), "truncated");
    }

    #[test]
    fn integers_are_minimal_and_positive() {
        assert_eq!(integer_content(&[0x00, 0x00, 0x12]), vec![0x12]);
        assert_eq!(integer_content(&[0x80]), vec![0x00, 0x80]);
        assert_eq!(integer_content(&[]), vec![0x00]);
        assert_eq!(integer_content(&[0, 0]), vec![0x00]);
    }
}
