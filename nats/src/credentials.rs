//! Connecting as a service: its credentials, its own inbox, and the broker's refusals recorded.

use events_broker::Credentials;

use crate::subject::inbox_prefix;
use crate::ConnectError;

/// Connects as a service: its user and password, replies on its own inbox (`_INBOX_<user>`, the
/// only one its permissions let it read), and the broker's permission violations recorded, so
/// that a refused publish fails at once as [`PublishErrorKind::Forbidden`](crate::PublishErrorKind::Forbidden).
pub async fn connect_as(url: &str, credentials: &Credentials) -> Result<async_nats::Client, ConnectError> {
    let user = credentials.user().to_string();
    async_nats::ConnectOptions::with_user_and_password(
        credentials.user().to_string(),
        credentials.password().to_string(),
    )
    .custom_inbox_prefix(inbox_prefix(credentials.user()))
    .event_callback(move |event| {
        let user = user.clone();
        async move {
            if let async_nats::Event::ServerError(async_nats::ServerError::Other(text)) = event {
                crate::violations::record(&user, &text);
            }
        }
    })
    .connect(url)
    .await
    .map_err(|source| ConnectError { url: url.to_string(), source })
}
