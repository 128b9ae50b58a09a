//! Reading rendered pages the way a test needs: an element's text, a link's path.

/// The link with this id on a page, as a path.
pub fn link(html: &str, id: &str) -> Option<String> {
    let anchor = html.find(&format!("id=\"{id}\""))?;
    let start = html[..anchor].rfind("href=\"")? + 6;
    let end = start + html[start..].find('"')?;
    Some(html[start..end].replace("&#38;", "&").replace("&amp;", "&"))
}

/// The text of the element with this id.
pub fn text_of(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = html.find(&marker).expect("the element") + marker.len();
    html[start..start + html[start..].find('<').expect("its end")].to_owned()
}
