#include "trainer/distill/chunked_rows.h"

#include <torch/csrc/autograd/custom_function.h>

#include "common/error.h"

namespace distill::kd {
namespace {

// Holds the row function for the backward pass (saved_data keeps IValues).
struct RowFunctionHolder : torch::CustomClassHolder {
  RowFunctionHolder(RowFunction fn, int64_t n) : f(std::move(fn)), count(n) {}
  RowFunction f;
  int64_t count;
};

torch::Tensor evaluate(const RowFunction& f, const torch::Tensor& rows, int64_t begin, int64_t end, int64_t j) {
  torch::Tensor out = f(rows, begin, end, j);
  DISTILL_CHECK(out.dim() == 1 && out.size(0) == end - begin, "chunked rows: value ", j, " of the row function is ",
                out.sizes(), " for ", end - begin, " rows; expected [", end - begin, "]");
  return out.to(torch::kFloat);
}

// Every value of every chunk, without a graph: [count, R].
torch::Tensor evaluateAll(const RowFunction& f, int64_t count, const torch::Tensor& logits, int64_t chunk) {
  torch::NoGradGuard no_grad;
  const int64_t rows = logits.size(0);
  torch::Tensor out = torch::empty({count, rows}, logits.options().dtype(torch::kFloat));
  for (int64_t begin = 0; begin < rows; begin += chunk) {
    const int64_t end = std::min(rows, begin + chunk);
    for (int64_t j = 0; j < count; ++j) out[j].slice(0, begin, end).copy_(evaluate(f, logits.slice(0, begin, end), begin, end, j));
  }
  return out;
}

struct ChunkedRows : torch::autograd::Function<ChunkedRows> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& logits, int64_t chunk,
                               c10::intrusive_ptr<RowFunctionHolder> holder) {
    ctx->save_for_backward({logits});
    ctx->saved_data["chunk"] = chunk;
    ctx->saved_data["f"] = c10::IValue::make_capsule(holder);
    return evaluateAll(holder->f, holder->count, logits, chunk);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const torch::Tensor logits = ctx->get_saved_variables()[0];
    const int64_t chunk = ctx->saved_data["chunk"].toInt();
    const auto holder = c10::static_intrusive_pointer_cast<RowFunctionHolder>(ctx->saved_data["f"].toCapsule());
    const torch::Tensor& grad_rows = grad_outputs[0];  // [count, R]
    torch::Tensor grad = torch::zeros_like(logits);
    torch::AutoGradMode enable(true);
    for (int64_t begin = 0; begin < logits.size(0); begin += chunk) {
      const int64_t end = std::min(logits.size(0), begin + chunk);
      for (int64_t j = 0; j < holder->count; ++j) {
        const torch::Tensor rows = logits.slice(0, begin, end).detach().requires_grad_(true);
        const torch::Tensor out = evaluate(holder->f, rows, begin, end, j);
        if (!out.requires_grad()) continue;  // a value that does not depend on the student
        const auto g = torch::autograd::grad({out}, {rows}, {grad_rows[j].slice(0, begin, end)},
                                             /*retain_graph=*/false, /*create_graph=*/false, /*allow_unused=*/true);
        if (g[0].defined()) grad.slice(0, begin, end).add_(g[0]);
      }
    }
    return {grad, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor chunkedRows(const torch::Tensor& student_logits, int64_t chunk, int64_t count, RowFunction f) {
  DISTILL_CHECK(student_logits.dim() == 2, "chunked rows: logits must be [rows, classes], got ", student_logits.sizes());
  DISTILL_CHECK(count >= 1, "chunked rows: count must be >= 1");
  const int64_t rows = student_logits.size(0);
  if (chunk <= 0 || chunk >= rows) {  // one chunk: ordinary autograd
    std::vector<torch::Tensor> values;
    for (int64_t j = 0; j < count; ++j) values.push_back(evaluate(f, student_logits, 0, rows, j));
    return torch::stack(values);
  }
  if (!student_logits.requires_grad()) return evaluateAll(f, count, student_logits, chunk);  // evaluation
  return ChunkedRows::apply(student_logits, chunk, c10::make_intrusive<RowFunctionHolder>(std::move(f), count));
}

}  // namespace distill::kd
