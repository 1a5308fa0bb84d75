//! Running a discovery task, and the repository-detail lookup tasks share.

use hubcensus_types::RepoRef;

use crate::{
    DiscoveryTask, HubClient, HubError, RepoSummary, TaskOutcome, name_lists, namespace, search, wire,
};

impl HubClient {
    /// Runs one discovery task to completion: the repositories it saw, the tasks it spawned
    /// (shards, namespace crawls, listing slices), and notes on caps and refusals.
    ///
    /// A task is idempotent: running it again yields the same outcome (as far as Hub has not
    /// changed), so a queue may re-run a task whose worker died.
    ///
    /// # Errors
    ///
    /// Transient errors ([`HubError::is_transient`]: rate limits, transport failures after the
    /// gate's retries) mean "run the task again later". Others are permanent for this task: a
    /// listing that loops or never ends, a malformed page, an invalid task, an unreadable names
    /// file.
    #[tracing::instrument(skip_all, fields(task = %task.key()))]
    pub async fn run(&self, task: &DiscoveryTask) -> Result<TaskOutcome, HubError> {
        match task {
            DiscoveryTask::SearchV4 { query, sort, badges } => {
                search::run_v4(self, query, *sort, badges).await
            }
            DiscoveryTask::Namespace { namespace, badge, part } => {
                namespace::run(self, task, namespace, *badge, part).await
            }
            DiscoveryTask::NamesFile { path, start_line, lines, byte_offset } => {
                name_lists::run(self, path, *start_line, *lines, *byte_offset).await
            }
            DiscoveryTask::LegacySearch { query } => search::run_legacy(self, query).await,
        }
    }

    /// The repository detail (`/v2/namespaces/{ns}/repositories/{repo}`): everything Hub says
    /// about one repository but its badge (officials excepted: `library/` is official).
    ///
    /// # Errors
    ///
    /// [`HubError::NotFound`] when the repository is private or gone; [`HubError::Malformed`]
    /// for a body that is not a repository; gate errors.
    pub async fn repository(&self, repo: &RepoRef) -> Result<RepoSummary, HubError> {
        let url = self.url(&format!("/v2/namespaces/{}/repositories/{}", repo.namespace(), repo.name()));
        let body = self.get(&url).await?;
        let value: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| HubError::Malformed { url: url.to_string(), detail: e.to_string() })?;
        let (_, summary) =
            wire::repo_entry(value).map_err(|detail| HubError::Malformed { url: url.to_string(), detail })?;
        Ok(summary)
    }
}
