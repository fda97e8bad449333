//! The application service: validation and the database check.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use traced::db::rusqlite::TracedConnection as _;
use traced::traced;

/// The payload of `POST /login`.
#[derive(Deserialize)]
pub struct LoginForm {
    pub user: Option<String>,
    pub password: Option<String>,
}

// `#[traced]` records a parameter through `Debug`. Parameters and `Debug`
// fields named like secrets (`password` here) are scrubbed from what it
// records, but scrubbing goes by names and shapes: a type that holds a
// secret is best written so that its `Debug` never shows it, whatever the
// field is called.
impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

/// Why a login failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("invalid payload: {0}")]
    Invalid(&'static str),
    #[error("wrong user or password")]
    WrongCredentials,
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
}

impl IntoResponse for LoginError {
    fn into_response(self) -> Response {
        let status = match self {
            LoginError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            LoginError::WrongCredentials => StatusCode::BAD_REQUEST,
            LoginError::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, self.to_string()).into_response()
    }
}

/// A SQLite database, created and seeded on start.
#[derive(Clone)]
pub struct Db(Arc<Mutex<rusqlite::Connection>>);

const SELECT_USER: &str = "SELECT password_hash FROM users WHERE name = ?1";

impl Db {
    pub fn open_seeded() -> Result<Db, rusqlite::Error> {
        let conn = rusqlite::Connection::open_in_memory()?;
        conn.execute_batch(
            "CREATE TABLE users (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL);
             INSERT INTO users VALUES ('ana', 'hash:s3cret'), ('bob', 'hash:hunter2');",
        )?;
        Ok(Db(Arc::new(Mutex::new(conn))))
    }

    /// A database call: a `client` span (`SELECT users`) with the
    /// database conventions and the parameterised query text, never the
    /// values.
    fn password_hash(&self, user: &str) -> Result<Option<String>, rusqlite::Error> {
        let conn = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let hashes = conn.query_traced(SELECT_USER, [user], |row| row.get(0))?;
        Ok(hashes.into_iter().next())
    }
}

/// The credentials of a valid form.
pub struct Credentials {
    pub user: String,
    password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

#[traced]
fn validate(form: LoginForm) -> Result<Credentials, LoginError> {
    let user = form
        .user
        .filter(|u| !u.is_empty())
        .ok_or(LoginError::Invalid("`user` is missing"))?;
    let password = form
        .password
        .filter(|p| !p.is_empty())
        .ok_or(LoginError::Invalid("`password` is missing"))?;
    Ok(Credentials { user, password })
}

#[traced(skip(db), attributes(user.name = credentials.user.as_str()))]
fn check_credentials(db: &Db, credentials: &Credentials) -> Result<String, LoginError> {
    let stored = db.password_hash(&credentials.user)?;
    if stored.as_deref() != Some(format!("hash:{}", credentials.password).as_str()) {
        return Err(LoginError::WrongCredentials);
    }
    Ok(format!("token-{}", credentials.user))
}

/// Logins answered, for the reliability load test's accounting.
pub static HANDLED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

#[traced(skip_all)]
async fn login(State(db): State<Db>, body: axum::body::Bytes) -> Result<String, LoginError> {
    HANDLED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let form: LoginForm =
        serde_json::from_slice(&body).map_err(|_| LoginError::Invalid("not a JSON object"))?;
    let credentials = validate(form)?;
    check_credentials(&db, &credentials)
}

pub fn router(db: Db) -> Router {
    Router::new()
        .route("/login", post(login))
        .layer(traced::http::server::TracedLayer::new())
        .with_state(db)
}
