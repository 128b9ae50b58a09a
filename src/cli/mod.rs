//! The subcommands: serve, migrate, users, tokens, webhook-secret, backup, restore,
//! generate; and the demo data `serve --demo` adds.

pub mod backup;
pub mod demo;

use std::io::BufRead;

use crate::config::{Cli, Command, Settings, TokensCommand, UsersCommand};
use crate::db::{self, DatabaseUrl, DbConnection};
use crate::domain::customer::Actor;
use crate::domain::user::{NewPassword, Username};
use crate::error::AppError;
use crate::services::accounts::{self, AccountInput};
use crate::startup::Application;

/// Runs one command to completion.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let url: DatabaseUrl = cli.database_url.parse()?;
    match cli.command {
        Command::Serve(args) => serve(Settings::from_args(url, &args), args.demo),
        Command::Migrate => {
            let pool = db::connect(&url, 1)?;
            db::run_migrations(&mut *pool.get()?)?;
            println!("Database {url} is up to date.");
            Ok(())
        }
        Command::Users(command) => {
            let pool = db::connect(&url, 1)?;
            let mut conn = pool.get()?;
            db::run_migrations(&mut conn)?;
            users(&mut conn, command)
        }
        Command::Generate { customers, seed } => {
            let pool = db::connect(&url, 1)?;
            let mut conn = pool.get()?;
            db::run_migrations(&mut conn)?;
            let took = crate::db::generate::generate(&mut conn, customers, seed)?;
            // The planted duplicates are listed at once, as the worker would list them.
            let checking = std::time::Instant::now();
            while crate::services::duplicates::check_pending(&mut conn, 500)? > 0 {}
            println!(
                "Added {customers} customers in {:.1} s; their duplicate suggestions took {:.1} s more.",
                took.as_secs_f64(),
                checking.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Tokens(command) => {
            let pool = db::connect(&url, 1)?;
            let mut conn = pool.get()?;
            db::run_migrations(&mut conn)?;
            tokens(&mut conn, command)
        }
        Command::Backup { to } => {
            backup::backup(&url, &to)?;
            println!("Backed up {url} to {}.", to.display());
            Ok(())
        }
        Command::Restore { from, replace } => {
            let kept = backup::restore(&url, &from, replace)?;
            if let Some(kept) = kept {
                println!("The database that was there is kept as {}.", kept.display());
            }
            println!("Restored {} to {url}; start the server.", from.display());
            Ok(())
        }
        Command::WebhookSecret { rotate } => {
            let pool = db::connect(&url, 1)?;
            let mut conn = pool.get()?;
            db::run_migrations(&mut conn)?;
            let secret = crate::services::settings::print_signing_secret(&mut conn, rotate)
                .map_err(anyhow_of)?;
            println!("{secret}");
            Ok(())
        }
    }
}

fn serve(settings: Settings, demo: bool) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let bind = settings.bind.clone();
        let url = settings.database_url.clone();
        let app = Application::build(settings)?;
        {
            let mut conn = app.pool().get()?;
            if let Some(password) = accounts::bootstrap_admin(&mut conn).map_err(anyhow_of)? {
                println!("Created the supervisor account.\n  username: admin\n  password: {password}\n  (shown once; you will be asked to change it at first sign-in)");
            }
            if demo && let Some(password) = accounts::ensure_demo_agent(&mut conn).map_err(anyhow_of)? {
                println!("Created the demo agent account.\n  username: agent\n  password: {password}");
            }
            if demo {
                let created = demo::seed(&mut conn, 300).map_err(anyhow_of)?;
                if created > 0 {
                    println!("Created {created} demo customers with conversations.");
                }
            }
        }
        tracing::info!(%url, "database ready");
        let shown = bind.replace("0.0.0.0", "127.0.0.1");
        let port = app.port();
        let host = shown.rsplit_once(':').map_or(shown.as_str(), |(h, _)| h);
        println!("Clientele is listening on http://{host}:{port}");
        app.run_until_stopped().await?;
        Ok(())
    })
}

fn users(conn: &mut DbConnection, command: UsersCommand) -> anyhow::Result<()> {
    match command {
        UsersCommand::Create {
            username,
            role,
            display_name,
        } => {
            let input = AccountInput {
                username,
                display_name: display_name.unwrap_or_default(),
                role,
                time_zone: String::new(),
                password: read_password()?,
            };
            let account = input.parse().map_err(|e| invalid(AppError::Invalid(e)))?;
            let user =
                accounts::create_account(conn, &Actor::System, &account, false).map_err(invalid)?;
            println!("Created {} ({}).", user.username, user.role().as_str());
        }
        UsersCommand::List => {
            println!(
                "{:<24} {:<12} {:<8} DISPLAY NAME",
                "USERNAME", "ROLE", "ACTIVE"
            );
            for user in db::users::list_users(conn)? {
                println!(
                    "{:<24} {:<12} {:<8} {}",
                    user.username,
                    user.role().as_str(),
                    if user.active { "yes" } else { "no" },
                    user.display_name
                );
            }
        }
        UsersCommand::SetPassword { username } => {
            let name = Username::parse(&username).map_err(anyhow::Error::msg)?;
            let user = db::users::find_user_by_username(conn, name.as_str())?
                .ok_or_else(|| anyhow::anyhow!("no account named {}", name))?;
            let password = NewPassword::parse(&read_password()?).map_err(anyhow::Error::msg)?;
            accounts::set_password(conn, &Actor::System, user.id, &password, false)
                .map_err(anyhow_of)?;
            println!(
                "Password of {} changed; its sessions have ended.",
                user.username
            );
        }
    }
    Ok(())
}

fn tokens(conn: &mut DbConnection, command: TokensCommand) -> anyhow::Result<()> {
    match command {
        TokensCommand::Create { name } => {
            let secret = crate::services::tokens::create_token(conn, &Actor::System, &name)
                .map_err(invalid)?;
            println!("{secret}");
        }
        TokensCommand::Revoke { name } => {
            if !crate::services::tokens::revoke_by_name(conn, &Actor::System, &name)
                .map_err(anyhow_of)?
            {
                anyhow::bail!("no active token named {name:?}");
            }
            println!("Revoked {name}.");
        }
    }
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn invalid(error: AppError) -> anyhow::Error {
    match error {
        AppError::Invalid(errors) => anyhow::anyhow!(
            "{}",
            errors
                .0
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow_of(other),
    }
}

fn anyhow_of(error: AppError) -> anyhow::Error {
    match error {
        AppError::Unexpected(inner) => inner,
        other => anyhow::anyhow!("{other}"),
    }
}
