use hubcensus_store::{MIGRATOR, Store};
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn migrate_twice_is_a_no_op_the_second_time(pool: PgPool) {
    let store = Store::from_pool(pool);
    let first = store.migrate().await.unwrap();
    assert_eq!(first, MIGRATOR.iter().count(), "the first run applies every migration");
    assert_eq!(store.migrate().await.unwrap(), 0, "the second run applies nothing");
}
