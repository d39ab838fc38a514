// The control-plane transport: Protobuf ControlMessages over MPI point-to-point.
//
// One tag, one message type (the ControlMessage envelope in proto/control.proto,
// where the protocol is written down). Sends never block: each serialized message
// is kept alive until MPI reports the send complete.
//
//   MpiChannel channel;
//   channel.send(0, message);                       // worker -> coordinator
//   while (auto in = channel.poll()) handle(in->source, in->message);
#pragma once

#include <mpi.h>

#include <chrono>
#include <list>
#include <optional>
#include <string>

#include "proto/control.pb.h"

namespace distill::control {

struct Incoming {
  int source = -1;
  ControlMessage message;
};

class MpiChannel {
 public:
  explicit MpiChannel(MPI_Comm comm = MPI_COMM_WORLD);
  ~MpiChannel();
  MpiChannel(const MpiChannel&) = delete;
  MpiChannel& operator=(const MpiChannel&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }

  // Queues `message` for `dest`; returns at once.
  void send(int dest, const ControlMessage& message);
  // The next message from any rank, if one has arrived.
  std::optional<Incoming> poll();
  // Waits up to `timeout` for a message from any rank.
  std::optional<Incoming> receive(std::chrono::milliseconds timeout);
  // Waits until every queued send has completed, at most `timeout`; false if some did not.
  bool flush(std::chrono::milliseconds timeout);

 private:
  struct PendingSend {
    std::string bytes;
    MPI_Request request = MPI_REQUEST_NULL;
  };
  void reapCompletedSends();

  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
  std::list<PendingSend> pending_;
};

// Rank 0 broadcasts `value` to every rank of `comm`; other ranks receive it.
Bootstrap broadcastBootstrap(const Bootstrap& value, MPI_Comm comm = MPI_COMM_WORLD);

// Rank 0 broadcasts `value` (other ranks pass nullopt); every rank returns
// it, or nullopt on every rank when rank 0 had none to send (it failed).
std::optional<std::string> broadcastBytes(const std::optional<std::string>& value, MPI_Comm comm = MPI_COMM_WORLD);

}  // namespace distill::control
