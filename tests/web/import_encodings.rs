//! Files saved by spreadsheets in other encodings than UTF-8 are read as they were meant,
//! and the mapping page says which encoding was found.

use crate::helpers::spawn_app;
use crate::import::{public_id_of, run_job, upload};

#[tokio::test]
async fn windows_1252_and_utf16_files_are_converted_and_control_characters_left_out() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let text = "name,email,city\r\nJosé Müller,jose@example.com,Zürich\r\nFrançoise Lefèvre,fr@example.com,Besançon\r\n";

    let (cp1252, _, _) = encoding_rs::WINDOWS_1252.encode(text);
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(
        text.replace("José", "Åsa")
            .replace("jose@", "asa@")
            .replace("fr@", "fr16@")
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    let with_nul = "name,email\nNul\u{0}l Byte,nul@example.com\n";

    for (file, bytes, encoding) in [
        ("excel.csv", cp1252.into_owned(), "windows-1252"),
        ("unicode.csv", utf16, "UTF-16LE"),
        ("nul.csv", with_nul.as_bytes().to_vec(), "UTF-8"),
    ] {
        let import = upload(&supervisor, file, &bytes).await;
        let page = supervisor
            .page(&format!("/customers/import/{import}"))
            .await;
        assert!(
            page.contains(&format!("Read as {encoding}")),
            "{file}: {page}"
        );
        let (_, processed, created, _, refused) =
            run_job(&app, &supervisor, import, "run", &[]).await;
        assert_eq!(refused, 0, "{file}");
        assert_eq!(processed, created, "{file}");
    }
    let name = |email: &str| app.value_of(&public_id_of(&app, email), "name");
    assert_eq!(name("jose@example.com").as_deref(), Some("José Müller"));
    assert_eq!(name("fr@example.com").as_deref(), Some("Françoise Lefèvre"));
    assert_eq!(name("asa@example.com").as_deref(), Some("Åsa Müller"));
    assert_eq!(
        name("fr16@example.com").as_deref(),
        Some("Françoise Lefèvre")
    );
    assert_eq!(name("nul@example.com").as_deref(), Some("Null Byte"));
}
