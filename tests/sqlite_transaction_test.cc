// Transaction's BeforeCommit callbacks: what makes the sklearn index files
// durable once per commit, before the rows that count them (docs/storage.md);
// its AfterRollback callbacks, which remove the files of a write that never
// committed; and a full database as the one disk-full line.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "fo/error.h"
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

using AfterRollbackTest = BeforeCommitTest;

TEST_F(AfterRollbackTest, RunsWhenTheOutermostTransactionRollsBackOnly) {
  std::vector<std::string> runs;
  {
    Transaction outer(db);
    {
      Transaction inner(db);
      db.AfterRollback([&] { runs.push_back("first"); });
      // A savepoint rolled back: the outer transaction may still commit.
    }
    EXPECT_TRUE(runs.empty());
    db.AfterRollback([&] {
      runs.push_back("second");
      throw std::runtime_error("ignored");
    });
    db.AfterRollback([&] { runs.push_back("third"); });
  }
  EXPECT_EQ(runs, (std::vector<std::string>{"first", "second", "third"}));
  runs.clear();
  {
    Transaction txn(db);
    db.AfterRollback([&] { runs.push_back("committed"); });
    txn.Commit();
  }
  {
    Transaction txn(db);
    txn.Commit();
  }
  EXPECT_TRUE(runs.empty());  // dropped by the commit, not kept for later
}

TEST_F(AfterRollbackTest, RunsWhenTheCommitFails) {
  bool ran = false;
  {
    Transaction txn(db);
    db.Exec("INSERT INTO t VALUES (1)");
    db.AfterRollback([&] { ran = true; });
    db.BeforeCommit([] { throw std::runtime_error("sync failed"); });
    EXPECT_THROW(txn.Commit(), std::runtime_error);
    EXPECT_FALSE(ran);
  }
  EXPECT_TRUE(ran);
  EXPECT_EQ(Count(db), 0);
}

// SQLITE_FULL (here from max_page_count, as a full disk gives it) is the
// one disk-full line naming the store, on every path a query can fail on.
TEST_F(BeforeCommitTest, AFullDatabaseIsTheDiskFullLine) {
  auto pages = db.Prepare("PRAGMA page_count");
  pages.Step();
  db.Exec("PRAGMA max_page_count = " + std::to_string(pages.Int(0)));
  const std::string line = "the disk holding " + dir.File("t.db") + " is full: free some space and try again";
  Error e = testing::CaughtError([&] { db.Exec("INSERT INTO t VALUES (zeroblob(100000))"); });
  EXPECT_EQ(e.code(), ErrorCode::kIOError);
  EXPECT_EQ(std::string(e.what()), line);
  e = testing::CaughtError([&] {
    Transaction txn(db);
    db.Prepare("INSERT INTO t VALUES (zeroblob(?))").Bind(1, 100000).Run();
    txn.Commit();
  });
  EXPECT_EQ(std::string(e.what()), line);
  EXPECT_EQ(Count(db), 0);
}

}  // namespace
}  // namespace fo::internal
