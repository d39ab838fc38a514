#include "control/mpi_channel.h"

#include <limits>
#include <thread>

#include "common/error.h"

namespace distill::control {
namespace {
constexpr int kControlTag = 7100;

void mpiCheck(int rc, const char* what) {
  if (rc != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    DISTILL_FAIL("MPI call ", what, " failed: ", std::string(text, len));
  }
}
}  // namespace

MpiChannel::MpiChannel(MPI_Comm comm) : comm_(comm) {
  mpiCheck(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  mpiCheck(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
}

MpiChannel::~MpiChannel() {
  // Sends still in flight at exit are cancelled; the peer is either gone or
  // about to be aborted, and MPI_Finalize must not wait for them.
  for (auto& p : pending_) {
    if (p.request != MPI_REQUEST_NULL) {
      MPI_Cancel(&p.request);
      MPI_Request_free(&p.request);
    }
  }
}

void MpiChannel::send(int dest, const ControlMessage& message) {
  reapCompletedSends();
  pending_.emplace_back();
  PendingSend& p = pending_.back();
  DISTILL_ASSERT(message.SerializeToString(&p.bytes));
  mpiCheck(MPI_Isend(p.bytes.data(), static_cast<int>(p.bytes.size()), MPI_BYTE, dest, kControlTag,
                     comm_, &p.request),
           "MPI_Isend");
}

void MpiChannel::reapCompletedSends() {
  for (auto it = pending_.begin(); it != pending_.end();) {
    int done = 0;
    mpiCheck(MPI_Test(&it->request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    it = done ? pending_.erase(it) : std::next(it);
  }
}

std::optional<Incoming> MpiChannel::poll() {
  reapCompletedSends();
  int flag = 0;
  MPI_Status status;
  mpiCheck(MPI_Iprobe(MPI_ANY_SOURCE, kControlTag, comm_, &flag, &status), "MPI_Iprobe");
  if (!flag) return std::nullopt;
  int count = 0;
  mpiCheck(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
  std::string bytes(static_cast<size_t>(count), '\0');
  mpiCheck(MPI_Recv(bytes.data(), count, MPI_BYTE, status.MPI_SOURCE, kControlTag, comm_,
                    MPI_STATUS_IGNORE),
           "MPI_Recv");
  Incoming in;
  in.source = status.MPI_SOURCE;
  DISTILL_CHECK(in.message.ParseFromString(bytes), "control message from rank ", in.source,
                " could not be parsed (", count, " bytes): ranks run different builds?");
  return in;
}

std::optional<Incoming> MpiChannel::receive(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(50);
  while (true) {
    if (auto in = poll()) return in;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    // Back off to at most 2 ms so an idle rank does not burn a core.
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(2000));
  }
}

bool MpiChannel::flush(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    reapCompletedSends();
    if (pending_.empty()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

std::optional<std::string> broadcastBytes(const std::optional<std::string>& value, MPI_Comm comm) {
  int rank = 0;
  mpiCheck(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
  long long size = rank == 0 && value ? static_cast<long long>(value->size()) : -1;
  DISTILL_CHECK(size <= std::numeric_limits<int>::max(), "cannot broadcast ", size, " bytes (2 GB at most)");
  mpiCheck(MPI_Bcast(&size, 1, MPI_LONG_LONG, 0, comm), "MPI_Bcast");
  if (size < 0) return std::nullopt;
  std::string bytes = rank == 0 ? *value : std::string(static_cast<size_t>(size), '\0');
  mpiCheck(MPI_Bcast(bytes.data(), static_cast<int>(size), MPI_BYTE, 0, comm), "MPI_Bcast");
  return bytes;
}

Bootstrap broadcastBootstrap(const Bootstrap& value, MPI_Comm comm) {
  std::string bytes;
  DISTILL_ASSERT(value.SerializeToString(&bytes));
  const std::optional<std::string> received = broadcastBytes(bytes, comm);
  Bootstrap out;
  DISTILL_ASSERT(received && out.ParseFromString(*received));
  return out;
}

}  // namespace distill::control
