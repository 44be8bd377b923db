//! `evalguard users create`, `evalguard users reset-password` and the
//! first-run setup link: people who sign in to the dashboard, written
//! straight in the database.

use std::net::SocketAddr;

use anyhow::{Context, anyhow};
use chrono::Utc;
use evalguard_api::dashboard::people::{check_password, normalize_email};
use evalguard_api::dashboard::secrets::{
    generate_password, hash_password, random_token, token_hash,
};
use evalguard_domain::Role;
use evalguard_storage::{NewUser, Storage, StorageError};

pub struct CreateUser {
    pub org: String,
    pub email: String,
    pub role: Role,
    pub password: String,
}

/// Creates the organization if missing and the person in it.
pub async fn create_user(storage: &Storage, request: CreateUser) -> anyhow::Result<()> {
    let email = normalize_email(&request.email).map_err(|e| anyhow!("--email: {e}"))?;
    check_password(&request.password).map_err(|e| anyhow!("password: {e}"))?;
    let org_id = storage
        .access
        .ensure_org(&request.org)
        .await
        .context("creating the organization")?;
    let password_hash = hash_password(&request.password)
        .ok_or_else(|| anyhow!("the password could not be hashed"))?;
    match storage
        .users
        .create_user(NewUser {
            org_id,
            email: email.clone(),
            role: request.role,
            password_hash,
        })
        .await
    {
        Err(StorageError::Conflict(_)) => Err(anyhow!("a user with the email {email} exists")),
        other => other.map(|_| ()).context("storing the user"),
    }
}

/// A password for a person: read from standard input, or generated.
pub struct NewPassword {
    pub text: String,
    generated: bool,
}

impl NewPassword {
    /// The first line of standard input with `from_stdin`, else 128 random bits.
    pub fn read_or_generate(from_stdin: bool) -> anyhow::Result<Self> {
        if !from_stdin {
            return Ok(Self {
                text: generate_password(),
                generated: true,
            });
        }
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        Ok(Self {
            text: line.trim_end_matches(['\r', '\n']).to_owned(),
            generated: false,
        })
    }

    /// A generated password is the last line of stdout: the operator hands it on.
    pub fn print_if_generated(&self) {
        if self.generated {
            println!("{}", self.text);
        }
    }
}

/// Replaces the password of the person signing in with `email` and ends
/// every session of theirs (for someone who forgot theirs).
pub async fn reset_password(storage: &Storage, email: &str, password: &str) -> anyhow::Result<()> {
    let email = normalize_email(email).map_err(|e| anyhow!("--email: {e}"))?;
    check_password(password).map_err(|e| anyhow!("password: {e}"))?;
    let user = storage
        .users
        .find_user_by_email(&email)
        .await
        .context("looking up the user")?
        .ok_or_else(|| anyhow!("no user has the email {email}"))?;
    let password_hash =
        hash_password(password).ok_or_else(|| anyhow!("the password could not be hashed"))?;
    let stored = storage
        .users
        .set_password(user.org_id, user.id, &password_hash)
        .await
        .context("storing the password")?;
    if stored {
        Ok(())
    } else {
        Err(anyhow!("no user has the email {email}"))
    }
}

/// While the database has no user: a fresh single-use setup link (only its
/// token's hash is stored; earlier links stop working).
pub async fn first_run_setup_url(
    storage: &Storage,
    addr: SocketAddr,
) -> anyhow::Result<Option<String>> {
    if storage
        .users
        .count_users()
        .await
        .context("counting users")?
        > 0
    {
        return Ok(None);
    }
    let token = random_token();
    storage
        .users
        .replace_setup_token(&token_hash(&token), Utc::now())
        .await
        .context("storing the setup token")?;
    Ok(Some(format!("http://{addr}/dashboard/setup?token={token}")))
}
