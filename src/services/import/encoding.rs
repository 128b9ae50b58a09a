//! The character encoding of an uploaded file: spreadsheets save CSV in UTF-8 (with or
//! without a byte order mark), UTF-16 or a legacy code page such as Windows-1252. The
//! upload is kept converted to UTF-8, so everything after reads one encoding, and the
//! mapping page says what was found.

use std::io::{Read, Write};

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

/// How much of the file is looked at to guess its encoding.
const SAMPLE: usize = 64 * 1024;

/// The encoding of a file that starts with `sample` (its first bytes), and the length of
/// its byte order mark: by the mark when there is one, by the zero bytes of UTF-16 text
/// without one, as UTF-8 when its letters are mostly valid UTF-8, else by what the
/// bytes look like.
pub fn detect(sample: &[u8], whole: bool) -> (&'static Encoding, usize) {
    if let Some(found) = Encoding::for_bom(sample) {
        return found;
    }
    let half = sample.len() / 2;
    if half >= 8 {
        let zeros = |offset: usize| {
            sample
                .iter()
                .skip(offset)
                .step_by(2)
                .filter(|b| **b == 0)
                .count()
        };
        // Latin text in UTF-16: every other byte is zero.
        if zeros(1) * 10 > half * 3 && zeros(0) * 10 < half {
            return (UTF_16LE, 0);
        }
        if zeros(0) * 10 > half * 3 && zeros(1) * 10 < half {
            return (UTF_16BE, 0);
        }
    }
    // Letters written in UTF-8 beside a stray byte that is not: a UTF-8 file with a
    // damaged row (refused on its own), not a legacy one.
    let (mut letters, mut stray) = (0, 0);
    for chunk in sample.utf8_chunks() {
        letters += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        stray += usize::from(!chunk.invalid().is_empty());
    }
    if letters > 0 && letters >= stray {
        return (UTF_8, 0);
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(sample, whole);
    (detector.guess(None, chardetng::Utf8Detection::Allow), 0)
}

/// Copies the upload at `from` to `to` as UTF-8 (without a byte order mark); returns the
/// name of the encoding it was in.
pub fn store_as_utf8(
    from: &std::path::Path,
    to: &std::path::Path,
) -> std::io::Result<&'static str> {
    let mut input = std::fs::File::open(from)?;
    let mut sample = vec![0_u8; SAMPLE];
    let mut filled = 0;
    while filled < SAMPLE {
        let read = input.read(&mut sample[filled..])?;
        if read == 0 {
            break;
        }
        filled += read;
    }
    sample.truncate(filled);
    let (encoding, bom) = detect(&sample, filled < SAMPLE);
    let mut output = std::io::BufWriter::new(std::fs::File::create(to)?);
    if encoding == UTF_8 {
        // Already UTF-8: copied as it is (a row that is not valid UTF-8 after all is
        // refused on its own when read).
        output.write_all(&sample[bom..])?;
        std::io::copy(&mut input, &mut output)?;
    } else {
        let mut decoder = encoding.new_decoder_without_bom_handling();
        let mut text = String::with_capacity(SAMPLE * 3);
        let mut pending = sample[bom..].to_vec();
        let mut next = vec![0_u8; SAMPLE];
        loop {
            // Whether `pending` is the end of the file is known once the next read is.
            let read = input.read(&mut next)?;
            let last = read == 0;
            let mut rest = &pending[..];
            loop {
                text.clear();
                let (result, used, _) = decoder.decode_to_string(rest, &mut text, last);
                output.write_all(text.as_bytes())?;
                rest = &rest[used..];
                if result == encoding_rs::CoderResult::InputEmpty {
                    break;
                }
            }
            if last {
                break;
            }
            pending.clear();
            pending.extend_from_slice(&next[..read]);
        }
    }
    output.flush()?;
    Ok(encoding.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_order_marks_and_utf16_without_one_are_recognised() {
        assert_eq!(detect(b"\xEF\xBB\xBFname\n", true), (UTF_8, 3));
        assert_eq!(detect(b"\xFF\xFEn\0a\0", true), (UTF_16LE, 2));
        let le: Vec<u8> = "name,email\nAna,a@x.com\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(detect(&le, true).0, UTF_16LE);
        let be: Vec<u8> = "name,email\nAna,a@x.com\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(detect(&be, true).0, UTF_16BE);
    }

    #[test]
    fn legacy_code_pages_are_told_from_utf8() {
        let text = "name,city\nJosé Müller,Zürich\nFrançoise Lefèvre,Besançon\nÅsa Öberg,Malmö\n";
        assert_eq!(detect(text.as_bytes(), true).0, UTF_8);
        let (cp1252, _, _) = encoding_rs::WINDOWS_1252.encode(text);
        assert_eq!(detect(&cp1252, true).0, encoding_rs::WINDOWS_1252);
        let damaged = [text.as_bytes(), b"Bad \xff Bytes\n"].concat();
        assert_eq!(
            detect(&damaged, true).0,
            UTF_8,
            "one bad row, not a code page"
        );
    }
}
