//! What a render "produces" in each output format the API takes
//! (`output.format`: mp4, mov, webm, gif): the file's bytes, its
//! `Content-Type`, and whether it can carry the `render_pad_bytes` padding.
//! Every render of a format gets the same real, playable file (see
//! `assets/README.md`); nothing here serves.

/// The bytes of every rendered MP4: a 1 s, 160×90 H.264 MP4.
pub const RENDERED_MP4: &[u8] = include_bytes!("../assets/render.mp4");

/// The same movie as QuickTime: the MP4 with its `ftyp` rewritten.
pub const RENDERED_MOV: &[u8] = &quicktime();

/// A 1 s, 160×90 VP8 WebM.
pub const RENDERED_WEBM: &[u8] = include_bytes!("../assets/render.webm");

/// A 1 s, 80×45 animated GIF89a (5 frames, looping).
pub const RENDERED_GIF: &[u8] = include_bytes!("../assets/render.gif");

/// The output formats a render may ask for.
pub const FORMATS: [&str; 4] = ["mp4", "mov", "webm", "gif"];

/// A rendered file of one format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Media {
    pub bytes: &'static [u8],
    pub content_type: &'static str,
    /// Whether `render_pad_bytes` grows the file (by a trailing ISO-BMFF
    /// `free` box, which players skip): MP4 and QuickTime only.
    pub pads: bool,
}

/// The file a render of `format` produces; `None` for a format the
/// service does not render.
pub fn media(format: &str) -> Option<Media> {
    let (bytes, content_type, pads) = match format {
        "mp4" => (RENDERED_MP4, "video/mp4", true),
        "mov" => (RENDERED_MOV, "video/quicktime", true),
        "webm" => (RENDERED_WEBM, "video/webm", false),
        "gif" => (RENDERED_GIF, "image/gif", false),
        _ => return None,
    };
    Some(Media {
        bytes,
        content_type,
        pads,
    })
}

/// The MP4's first 32 bytes are its `ftyp` box (`isom`, 4 compatible
/// brands); they become a QuickTime `ftyp` (major and only brand `qt  `,
/// 20 bytes) and a 12-byte `free` box, so no offset in the file moves.
const fn quicktime() -> [u8; RENDERED_MP4.len()] {
    let mut out = [0u8; RENDERED_MP4.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = RENDERED_MP4[i];
        i += 1;
    }
    let head: &[u8; 32] = b"\0\0\0\x14ftypqt  \0\0\x02\0qt  \0\0\0\x0cfree\0\0\0\0";
    let mut i = 0;
    while i < head.len() {
        out[i] = head[i];
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An EBML element's id and data size (ids kept with their marker
    /// bits, sizes without), and where its data starts.
    fn ebml_element(bytes: &[u8], at: usize) -> (u32, u64, usize) {
        let width = |first: u8| first.leading_zeros() as usize + 1;
        let id_len = width(bytes[at]);
        let id = bytes[at..at + id_len]
            .iter()
            .fold(0u32, |acc, b| acc << 8 | u32::from(*b));
        let size_at = at + id_len;
        let size_len = width(bytes[size_at]);
        let mut size = u64::from(bytes[size_at]) & (0xff >> size_len);
        for b in &bytes[size_at + 1..size_at + size_len] {
            size = size << 8 | u64::from(*b);
        }
        (id, size, size_at + size_len)
    }

    #[test]
    fn mp4_and_mov_are_iso_bmff_with_their_brands() {
        assert_eq!(&RENDERED_MP4[4..12], b"ftypisom");
        assert_eq!(RENDERED_MOV.len(), RENDERED_MP4.len());
        assert_eq!(&RENDERED_MOV[..20], b"\0\0\0\x14ftypqt  \0\0\x02\0qt  ");
        assert_eq!(&RENDERED_MOV[20..32], b"\0\0\0\x0cfree\0\0\0\0");
        // Everything after the first 32 bytes (`moov`, `mdat`) is the MP4's.
        assert_eq!(RENDERED_MOV[32..], RENDERED_MP4[32..]);
        assert_eq!(&RENDERED_MOV[36..40], b"moov");
    }

    #[test]
    fn webm_is_an_ebml_document_of_doctype_webm_with_a_segment() {
        let (id, size, data) = ebml_element(RENDERED_WEBM, 0);
        assert_eq!(id, 0x1A45_DFA3, "EBML header");
        let header_end = data + size as usize;
        let mut at = data;
        let mut doctype = None;
        while at < header_end {
            let (id, size, data) = ebml_element(RENDERED_WEBM, at);
            if id == 0x4282 {
                doctype = Some(&RENDERED_WEBM[data..data + size as usize]);
            }
            at = data + size as usize;
        }
        assert_eq!(doctype, Some(&b"webm"[..]));
        let (id, size, data) = ebml_element(RENDERED_WEBM, header_end);
        assert_eq!(id, 0x1853_8067, "Segment");
        assert_eq!(data + size as usize, RENDERED_WEBM.len());
    }

    #[test]
    fn gif_is_a_gif89a_that_ends_with_its_trailer() {
        assert_eq!(&RENDERED_GIF[..6], b"GIF89a");
        let width = u16::from_le_bytes([RENDERED_GIF[6], RENDERED_GIF[7]]);
        let height = u16::from_le_bytes([RENDERED_GIF[8], RENDERED_GIF[9]]);
        assert_eq!((width, height), (80, 45));
        assert_eq!(RENDERED_GIF.last(), Some(&0x3b));
    }

    #[test]
    fn every_format_has_its_file_and_type() {
        let types: Vec<_> = FORMATS
            .iter()
            .map(|f| media(f).unwrap().content_type)
            .collect();
        assert_eq!(
            types,
            ["video/mp4", "video/quicktime", "video/webm", "image/gif"]
        );
        assert!(media("avi").is_none());
        assert!(media("MP4").is_none());
    }
}
