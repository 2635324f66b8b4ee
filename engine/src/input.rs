//! `Input`: a job's stdin, with at most one source (`Input` of
//! `engine/streams.go`). Without a source it reads as end-of-file.

use std::io;
use std::pin::Pin;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::EngineError;

type Source = Pin<Box<dyn AsyncRead + Send>>;

/// A single-source reader. Cheap to clone; clones share the source.
#[derive(Clone, Default)]
pub struct Input {
    // Held across a read's await, hence tokio's mutex.
    src: Arc<tokio::sync::Mutex<Option<Source>>>,
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input").finish_non_exhaustive()
    }
}

impl Input {
    /// No source yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the source; a second source is refused.
    pub fn add(&self, src: impl AsyncRead + Send + 'static) -> Result<(), EngineError> {
        // A held lock means a read is in progress, so a source is set.
        let mut slot = self.src.try_lock().map_err(|_| EngineError::TooManySources)?;
        if slot.is_some() {
            return Err(EngineError::TooManySources);
        }
        *slot = Some(Box::pin(src));
        Ok(())
    }

    /// Reads from the source; `Ok(0)` (end of file) when there is none.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self.src.lock().await.as_mut() {
            Some(src) => src.read(buf).await,
            None => Ok(0),
        }
    }

    /// Reads everything up to end of file.
    pub async fn read_to_end(&self) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        if let Some(src) = self.src.lock().await.as_mut() {
            src.read_to_end(&mut out).await?;
        }
        Ok(out)
    }

    /// Drops the source, which closes it (an HTTP request body, a hijacked
    /// connection). Later reads see end of file.
    pub async fn close(&self) {
        self.src.lock().await.take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn empty_input_is_eof() {
        let input = Input::new();
        let mut buf = [0u8; 4];
        assert_eq!(input.read(&mut buf).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn one_source_only() {
        let input = Input::new();
        input.add(&b"hello"[..]).unwrap();
        let err = input.add(&b"again"[..]).unwrap_err();
        assert_eq!(err.to_string(), "Maximum number of sources reached: 1");
        assert_eq!(input.read_to_end().await.unwrap(), b"hello");
    }

    #[tokio::test]
    async fn close_drops_the_source() {
        let input = Input::new();
        input.add(&b"data"[..]).unwrap();
        input.close().await;
        assert!(input.read_to_end().await.unwrap().is_empty());
    }
}
