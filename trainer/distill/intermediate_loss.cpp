#include "trainer/distill/intermediate_loss.h"

#include "common/error.h"
#include "trainer/distill/distill_term.h"
#include "trainer/distill/layer_mapping.h"

namespace distill::kd {
namespace {

std::string teacherName(const config::DistillSpec& spec, size_t k) {
  const int ki = static_cast<int>(k);
  if (ki < spec.teachers_size() && !spec.teachers(ki).name().empty()) return spec.teachers(ki).name();
  return "teacher" + std::to_string(k);
}

// The tensor a term reads from one model, checked to be there.
const torch::Tensor& termSource(const TermKind& kind, const LayerOutputs& out, const std::string& field,
                                const std::string& model) {
  const torch::Tensor& t = kind.reads_attentions ? out.attentions : out.hidden_states;
  DISTILL_CHECK(t.defined(), field, " (", kind.name, ") needs ", kind.reads_attentions ? "attentions" : "hidden_states",
                ", but ", model, " returned none; see docs/models.md");
  return t;
}

// Transformer layers as the term counts them: hidden_states has L+1 entries.
int64_t layersOf(const TermKind& kind, const torch::Tensor& source) {
  return kind.reads_attentions ? source.size(0) : source.size(0) - 1;
}

// attentions[i], or hidden_states[i + 1] (the embeddings, layer -1, at 0).
torch::Tensor layerOf(const TermKind& kind, const torch::Tensor& source, int64_t layer) {
  return source[kind.reads_attentions ? layer : layer + 1];
}

}  // namespace

Projections createProjections(const config::DistillSpec& spec, const ModelShape& student,
                              const std::vector<ModelShape>& teachers, uint64_t seed, const torch::Device& device) {
  Projections projections;
  for (int i = 0; i < spec.terms_size(); ++i) {
    const config::DistillTerm& term = spec.terms(i);
    const std::string field = "distill.terms[" + std::to_string(i) + "]";
    const TermKind& kind = findTerm(term.kind(), field + ".kind");
    if (!kind.projects) continue;
    for (size_t k = 0; k < teachers.size(); ++k) {
      if (teachers[k].width == student.width) continue;
      const std::string teacher = teacherName(spec, k);
      for (const LayerPair& pair : layerPairs(term, field, student.layers, teachers[k].layers, teacher)) {
        const std::string name = projectionName(term.name(), teacher, pair.student);
        torch::Tensor w = initProjection(teachers[k].width, student.width, seed, name);
        projections[name] = w.to(device).detach().set_requires_grad(true);
      }
    }
  }
  return projections;
}

IntermediateBreakdown intermediateLoss(const config::DistillSpec& spec, const LayerOutputs& student,
                                       const std::vector<LayerOutputs>& teachers,
                                       const torch::Tensor& attention_mask, const torch::Tensor& weights,
                                       const Projections& projections) {
  const auto teacher_count = static_cast<int64_t>(teachers.size());
  DISTILL_CHECK(attention_mask.dim() == 2, "intermediate terms: attention_mask must be [batch, tokens], got ",
                attention_mask.sizes());
  const int64_t batch = attention_mask.size(0);
  IntermediateBreakdown out;
  out.total = torch::zeros({}, torch::dtype(torch::kFloat).device(attention_mask.device()));
  if (spec.terms_size() == 0) return out;
  DISTILL_CHECK(teacher_count > 0, "distill.terms: ", spec.terms_size(), " terms but no teachers");
  DISTILL_CHECK(weights.dim() == 2 && weights.size(0) == teacher_count && weights.size(1) == batch,
                "intermediate terms: weights must be [", teacher_count, ", ", batch, "], got ", weights.sizes());

  // Samples with at least one real token enter the mean.
  const torch::Tensor real = (attention_mask != 0).any(/*dim=*/1).to(torch::kFloat);  // [B]
  const torch::Tensor denominator = real.sum().clamp_min(1.0);
  const torch::Tensor w = weights.detach().to(torch::kFloat);

  std::vector<torch::Tensor> stats;
  for (int i = 0; i < spec.terms_size(); ++i) {
    const config::DistillTerm& term = spec.terms(i);
    const std::string field = "distill.terms[" + std::to_string(i) + "]";
    const TermKind& kind = findTerm(term.kind(), field + ".kind");
    const torch::Tensor& s_source = termSource(kind, student, field, "the student");

    std::vector<torch::Tensor> per_teacher;  // K x [B]
    for (int64_t k = 0; k < teacher_count; ++k) {
      const std::string teacher = teacherName(spec, static_cast<size_t>(k));
      const torch::Tensor& t_source =
          termSource(kind, teachers[static_cast<size_t>(k)], field, "teacher '" + teacher + "'");
      const std::vector<LayerPair> pairs =
          layerPairs(term, field, layersOf(kind, s_source), layersOf(kind, t_source), teacher);
      torch::Tensor sum = torch::zeros({batch}, real.options());
      for (const LayerPair& pair : pairs) {
        const auto found = projections.find(projectionName(term.name(), teacher, pair.student));
        TermInputs in{term,
                      layerOf(kind, s_source, pair.student),
                      layerOf(kind, t_source, pair.teacher),
                      attention_mask,
                      found == projections.end() ? torch::Tensor() : found->second,
                      field};
        sum = sum + kind.perSample(in);
      }
      per_teacher.push_back(sum / static_cast<double>(pairs.size()));
    }
    const torch::Tensor values = torch::stack(per_teacher);                             // [K,B]
    const torch::Tensor combined = ((w * values).sum(/*dim=*/0) * real).sum() / denominator;
    out.total = out.total + term.weight() * combined;
    stats.push_back(combined.detach().reshape({1}));
    stats.push_back((values.detach() * real).sum(/*dim=*/1) / denominator);  // [K]
  }

  // One device-to-host copy for every reported number.
  const torch::Tensor host = torch::cat(stats).to(torch::kCPU, torch::kDouble);
  const double* v = host.data_ptr<double>();
  for (int i = 0; i < spec.terms_size(); ++i) {
    TermBreakdown t;
    t.name = spec.terms(i).name();
    const double* row = v + i * (1 + teacher_count);
    t.value = row[0];
    t.per_teacher.assign(row + 1, row + 1 + teacher_count);
    out.terms.push_back(std::move(t));
  }
  return out;
}

torch::Tensor weightsPerSample(const torch::Tensor& row_weights, const torch::Tensor& counted_rows, int64_t batch) {
  DISTILL_CHECK(row_weights.dim() == 2 && batch > 0 && row_weights.size(1) % batch == 0 &&
                    counted_rows.dim() == 1 && counted_rows.size(0) == row_weights.size(1),
                "weights per sample: row weights ", row_weights.sizes(), " and counted rows ", counted_rows.sizes(),
                " must cover ", batch, " samples of equal length");
  const int64_t teachers = row_weights.size(0);
  const torch::Tensor c = (counted_rows != 0).to(torch::kFloat).reshape({1, batch, -1});  // [1,B,T]
  const torch::Tensor w = row_weights.detach().to(torch::kFloat).reshape({teachers, batch, -1});
  return (w * c).sum(/*dim=*/2) / c.sum(/*dim=*/2).clamp_min(1.0);
}

}  // namespace distill::kd
