//! CSV import (supervisors): upload, map the columns, dry run, run in the background, and
//! download the refused rows.

use actix_multipart::form::MultipartForm;
use actix_multipart::form::tempfile::TempFile;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::Supervisor;
use crate::db::imports::{self, Import, Refusal};
use crate::db::jobs::{self, Job};
use crate::db::types::{ImportId, JobId};
use crate::db::{self, properties};
use crate::domain::customer::MatchKey;
use crate::error::{AppError, see_other};
use crate::handlers::page::{PageContext, render, render_status};
use crate::page::FlashKind;
use crate::services::export::neutralise;
use crate::services::import::{self as service, ImportParams};
use crate::state::AppState;

/// The largest upload (a million rows of a wide export fit): streamed to a temporary
/// file, never held in memory.
pub const UPLOAD_LIMIT_BYTES: usize = 1024 * 1024 * 1024;

/// The upload form's file.
#[derive(MultipartForm)]
pub struct Upload {
    // The same limit as `UPLOAD_LIMIT_BYTES` (the attribute takes a literal).
    #[multipart(limit = "1GiB")]
    file: TempFile,
}

#[derive(Template)]
#[template(path = "customers/import_upload.html")]
struct UploadPage {
    ctx: PageContext,
    error: Option<String>,
}

/// `GET /customers/import`.
pub async fn upload_form(user: Supervisor) -> Result<HttpResponse, AppError> {
    let ctx = PageContext::new(&user.0, "customers")?;
    render(&UploadPage { ctx, error: None })
}

/// `POST /customers/import?csrf_token=…` (multipart): keeps the file, reads its header
/// and maps the columns it recognises.
pub async fn upload(
    user: Supervisor,
    state: web::Data<AppState>,
    form: Result<MultipartForm<Upload>, actix_web::Error>,
) -> Result<HttpResponse, AppError> {
    let refuse = |user: &Supervisor, message: &str| -> Result<HttpResponse, AppError> {
        let ctx = PageContext::new(&user.0, "customers")?;
        render_status(
            &UploadPage {
                ctx,
                error: Some(message.to_owned()),
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let Ok(form) = form else {
        return refuse(&user, "Choose a CSV file of at most 1 GB.");
    };
    let upload = form.into_inner().file;
    let file_name: String = upload
        .file_name
        .clone()
        .unwrap_or_else(|| "upload.csv".to_owned())
        .chars()
        .filter(|c| !c.is_control() && *c != '/' && *c != '\\')
        .take(120)
        .collect();
    if upload.size == 0 {
        return refuse(&user, "The file is empty.");
    }
    let dir = state.settings.data_dir.join("imports");
    let stored = dir.join(format!(
        "{}-{}.csv",
        db::now().format("%Y%m%d%H%M%S"),
        crate::domain::password::random_hex(8)
    ));
    let moved = web::block({
        let stored = stored.clone();
        move || -> std::io::Result<&'static str> {
            std::fs::create_dir_all(&dir)?;
            // Copied (the temporary folder may be on another file system), as UTF-8.
            service::store_as_utf8(upload.file.path(), &stored)
        }
    })
    .await?;
    let encoding = match moved {
        Ok(encoding) => encoding.to_owned(),
        Err(error) => {
            tracing::warn!(%error, "import upload could not be kept");
            return refuse(&user, "The file could not be stored; try again.");
        }
    };
    let header = web::block({
        let stored = stored.clone();
        move || service::read_header(&stored)
    })
    .await?;
    let (delimiter, headers) = match header {
        Ok(found) => found,
        Err(message) => {
            let _ = std::fs::remove_file(&stored);
            return refuse(&user, &message);
        }
    };
    let (user_id, user_name) = (user.0.user.id.0, user.0.user.display_name.clone());
    let path = stored.to_string_lossy().into_owned();
    let upload = service::Upload {
        file_name,
        stored_path: path,
        delimiter,
        headers,
        encoding,
    };
    let id = state
        .run(move |conn| service::register(conn, &upload, user_id, &user_name))
        .await?;
    Ok(see_other(&format!("/customers/import/{id}")))
}

/// One column on the mapping page.
pub struct Column {
    pub index: usize,
    pub header: String,
    pub target: String,
    /// The column's first values in the file ("a@x.com, b@y.org, …").
    pub samples: Vec<String>,
}

#[derive(Template)]
#[template(path = "customers/import_map.html")]
struct MapPage {
    ctx: PageContext,
    import: Import,
    columns: Vec<Column>,
    choices: Vec<(String, String)>,
    keys: Vec<(&'static str, &'static str, bool)>,
    dry: Option<Job>,
    run: Option<Job>,
    refused: Vec<Refusal>,
    /// Why the file cannot run any more, once it was removed.
    gone: Option<String>,
}

/// `GET /customers/import/{id}`: the mapping, and the dry run's findings once it ran.
pub async fn show(
    user: Supervisor,
    state: web::Data<AppState>,
    path: web::Path<ImportId>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (import, registry, dry, run, refused, kept, mut samples) = state
        .run(move |conn| {
            let import = imports::get_import(conn, id)?.ok_or(AppError::NotFound)?;
            let dry = match import.dry_job_id {
                Some(job) => jobs::get_job(conn, job)?,
                None => None,
            };
            let run = match import.run_job_id {
                Some(job) => jobs::get_job(conn, job)?,
                None => None,
            };
            let refused = match &dry {
                Some(job) => imports::list_refusals(conn, job.id, 0, 20)?,
                None => Vec::new(),
            };
            let kept = service::file_kept(conn, &import)?;
            let samples = if kept {
                service::column_samples(&import, 3).unwrap_or_default()
            } else {
                Vec::new()
            };
            Ok((
                import,
                properties::list_properties(conn)?,
                dry,
                run,
                refused,
                kept,
                samples,
            ))
        })
        .await?;
    let targets = import.targets();
    let columns = import
        .header_cells()
        .into_iter()
        .enumerate()
        .map(|(index, header)| Column {
            index,
            header,
            target: targets.get(index).cloned().unwrap_or_default(),
            samples: samples
                .get_mut(index)
                .map(std::mem::take)
                .unwrap_or_default(),
        })
        .collect();
    let chosen = import.keys();
    let keys = MatchKey::ALL
        .iter()
        .map(|key| (key.as_str(), key.label(), chosen.contains(key)))
        .collect();
    let ctx = PageContext::new(&user.0, "customers")?;
    render(&MapPage {
        ctx,
        columns,
        choices: service::targets(&registry),
        keys,
        dry,
        run,
        refused,
        gone: (!kept).then(service::gone_message),
        import,
    })
}

/// `POST /customers/import/{id}/dry-run` and `/run`: saves the mapping, then queues the
/// dry run or the import.
pub async fn start(
    user: Supervisor,
    state: web::Data<AppState>,
    path: web::Path<(ImportId, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let (id, what) = path.into_inner();
    let dry_run = match what.as_str() {
        "dry-run" => true,
        "run" => false,
        _ => return Err(AppError::NotFound),
    };
    let pairs = form.into_inner();
    // Without columns in the form (a script), the proposed mapping stands.
    let mapping =
        pairs
            .iter()
            .any(|(k, _)| k.starts_with("col_"))
            .then(|| service::MappingChoice {
                columns: pairs
                    .iter()
                    .filter_map(|(k, v)| Some((k.strip_prefix("col_")?.parse().ok()?, v.clone())))
                    .collect(),
                keys: MatchKey::ALL
                    .into_iter()
                    .filter(|k| {
                        pairs
                            .iter()
                            .any(|(name, v)| name == "match" && v == k.as_str())
                    })
                    .collect(),
                create_tags: pairs.iter().any(|(k, v)| k == "create_tags" && v == "on"),
            });
    let (user_id, user_name) = (user.0.user.id.0, user.0.user.display_name.clone());
    let job = state
        .run(move |conn| service::start(conn, id, dry_run, mapping, user_id, user_name))
        .await?;
    let job = match job {
        Ok(job) => job,
        Err(refused) => {
            user.0.session.flash(FlashKind::Error, refused);
            return Ok(see_other(&format!("/customers/import/{id}")));
        }
    };
    Ok(see_other(&format!("/jobs/{job}")))
}

/// `GET /jobs/{id}/refused.csv`: an import job's refused rows, with the original cells
/// and the reason, ready to be fixed and imported again.
pub async fn refused_csv(
    _user: Supervisor,
    state: web::Data<AppState>,
    path: web::Path<JobId>,
) -> Result<HttpResponse, AppError> {
    let job_id = path.into_inner();
    let body = state
        .run(move |conn| {
            let job = jobs::get_job(conn, job_id)?.ok_or(AppError::NotFound)?;
            let params: ImportParams =
                serde_json::from_str(&job.params).map_err(|_| AppError::NotFound)?;
            let import = imports::get_import(conn, params.import_id)?.ok_or(AppError::NotFound)?;
            let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
            let mut header = import.header_cells();
            header.extend(["refused_row", "refused_column", "refused_reason"].map(str::to_owned));
            let write = |out: &mut csv::Writer<Vec<u8>>, record: &[String]| {
                out.write_record(record)
                    .map_err(|e| AppError::Unexpected(e.into()))
            };
            write(&mut out, &header)?;
            let mut after = 0;
            loop {
                let batch = imports::list_refusals(conn, job_id, after, 1000)?;
                let Some(last) = batch.last() else { break };
                after = last.row_number;
                for refusal in &batch {
                    // The cells as uploaded, made safe to open in a spreadsheet (an import
                    // takes the apostrophe off again).
                    let mut record: Vec<String> =
                        serde_json::from_str::<Vec<String>>(&refusal.cells)
                            .unwrap_or_default()
                            .iter()
                            .map(|cell| neutralise(cell).into_owned())
                            .collect();
                    record.resize(import.header_cells().len(), String::new());
                    record.extend([
                        refusal.row_number.to_string(),
                        refusal.column_name.clone(),
                        refusal.reason.clone(),
                    ]);
                    write(&mut out, &record)?;
                }
            }
            out.into_inner()
                .map_err(|e| AppError::Unexpected(anyhow::anyhow!("{e}")))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"refused-rows.csv\"",
        ))
        .body(body))
}
