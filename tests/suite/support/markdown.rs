//! GitHub-flavoured markdown as HTML, rendered in this process by comrak with the extensions
//! GitHub turns on (tables, autolinks, strikethrough, task lists) and raw HTML passed through,
//! as GitHub's renderer does before its sanitiser: what a plan or drift comment becomes.

/// `md` as GitHub would render it, before sanitising.
pub fn to_html(md: &str) -> String {
    let mut options = comrak::Options::default();
    options.extension.table = true;
    options.extension.autolink = true;
    options.extension.strikethrough = true;
    options.extension.tasklist = true;
    options.render.r#unsafe = true;
    comrak::markdown_to_html(md, &options)
}
