// Transaction's BeforeCommit callbacks: what makes the sklearn index files
// durable once per commit, before the rows that count them (docs/storage.md).
#include <gtest/gtest.h>

#include <stdexcept>

#include "store/sqlite.h"
#include "test_support.h"

namespace fo::internal {
namespace {

int64_t Count(Sqlite& db) {
  auto q = db.Prepare("SELECT count(*) FROM t");
  q.Step();
  return q.Int(0);
}

class BeforeCommitTest : public ::testing::Test {
 protected:
  void SetUp() override { db.Exec("CREATE TABLE t (x INTEGER)"); }
  testing::TempDir dir;
  Sqlite db{dir.File("t.db")};
};

TEST_F(BeforeCommitTest, RunsOnceAtTheOutermostCommitOnly) {
  int runs = 0;
  {
    Transaction outer(db);
    {
      Transaction inner(db);
      db.Exec("INSERT INTO t VALUES (1)");
      db.BeforeCommit([&] { ++runs; });
      inner.Commit();  // a savepoint released: nothing is durable yet
    }
    EXPECT_EQ(runs, 0);
    outer.Commit();
  }
  EXPECT_EQ(runs, 1);
  Transaction next(db);
  next.Commit();
  EXPECT_EQ(runs, 1);  // not kept for later transactions
}

TEST_F(BeforeCommitTest, DroppedWhenTheTransactionRollsBack) {
  int runs = 0;
  {
    Transaction txn(db);
    db.BeforeCommit([&] { ++runs; });
  }
  Transaction next(db);
  next.Commit();
  EXPECT_EQ(runs, 0);
}

TEST_F(BeforeCommitTest, AThrowingCallbackRollsTheTransactionBack) {
  {
    Transaction txn(db);
    db.Exec("INSERT INTO t VALUES (1)");
    db.BeforeCommit([] { throw std::runtime_error("sync failed"); });
    EXPECT_THROW(txn.Commit(), std::runtime_error);
  }
  EXPECT_EQ(Count(db), 0);
  {
    Transaction txn(db);  // the connection is usable and the callback gone
    db.Exec("INSERT INTO t VALUES (2)");
    txn.Commit();
  }
  EXPECT_EQ(Count(db), 1);
}

}  // namespace
}  // namespace fo::internal
