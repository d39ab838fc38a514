#include "trainer/distill/cka.h"

#include "common/error.h"

namespace distill::kd {

torch::Tensor linearCKA(const torch::Tensor& student, const torch::Tensor& teacher) {
  DISTILL_CHECK(student.dim() == 2 && teacher.dim() == 2 && student.size(0) == teacher.size(0),
                "cka: student ", student.sizes(), " and teacher ", teacher.sizes(),
                " must be [batch, width] with the same batch");
  const torch::Tensor ys = student.to(torch::kFloat) - student.to(torch::kFloat).mean(/*dim=*/0, /*keepdim=*/true);
  const torch::Tensor xt = teacher.detach().to(torch::kFloat);
  const torch::Tensor yt = xt - xt.mean(/*dim=*/0, /*keepdim=*/true);
  // The same quantities through the [B,B] Gram matrices K = Y Y^T:
  // ||Ys^T Yt||_F^2 = <Ks, Kt>_F and ||Y^T Y||_F = ||K||_F. B is usually far
  // smaller than the widths, so this is the cheaper form.
  const torch::Tensor ks = torch::matmul(ys, ys.t());
  const torch::Tensor kt = torch::matmul(yt, yt.t());
  const torch::Tensor numerator = (ks * kt).sum();
  const torch::Tensor ss = ks.pow(2).sum();
  const torch::Tensor tt = kt.pow(2).sum();
  // A side without variation has K = 0 and the ratio is 0/0: call it 0. The
  // `where` on the inputs too keeps sqrt'(0) = inf out of the gradient.
  const torch::Tensor varied = (ss > 0) & (tt > 0);
  const torch::Tensor one = torch::ones_like(ss);
  const torch::Tensor ratio =
      numerator / (torch::where(varied, ss, one).sqrt() * torch::where(varied, tt, one).sqrt());
  return torch::where(varied, ratio, torch::zeros_like(ratio));
}

torch::Tensor ckaLoss(const torch::Tensor& student, const torch::Tensor& teacher) {
  return (1.0 - linearCKA(student, teacher)).expand({student.size(0)});
}

}  // namespace distill::kd
