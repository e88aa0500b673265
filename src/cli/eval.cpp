// `typegrad eval`.
#include "eval.hpp"

#include <cstdio>
#include <string>

#include "checkpoints.hpp"
#include "data.hpp"
#include "menu.hpp"
#include "report.hpp"
#include "text.hpp"
#include "typegrad/io/checkpoint.hpp"
#include "typegrad/train/sgd.hpp"

namespace typegrad::cli {
namespace {

template <class M>
int evaluate(const EvalOptions& o, const io::CheckpointImage& image) {
    const std::string file = o.model.string();
    M net;
    train::TrainerState state;
    try {
        state = io::restore_checkpoint(image, net, file);
    } catch (const io::CheckpointError& e) {
        throw RunError(cat("--model ", e.what()));
    }
    // As --resume: an accuracy of a diverged network says nothing.
    if (!train::parameters_finite(net)) throw RunError(cat("--model ", file, ": ", non_finite_parameters));
    const LoadedData d =
        load_data({o.data_dir, o.data_from_environment, o.seed}, 0, o.test_limit, M::input_width, M::output_width, false);
    const auto& h = image.header;
    // Text from the file is escaped wherever it is printed (a note could hold terminal escapes).
    std::printf("typegrad eval: %s: %s, %s cost, %s, %zu epoch%s trained, %zu test (%s)\n", file.c_str(),
                network_description<M>().c_str(), io::printable_text(h.cost).c_str(), io::printable_text(h.element_type).c_str(),
                state.epochs_done, state.epochs_done == 1 ? "" : "s", d.split.test.size(), d.description.c_str());
    if (!h.training.empty()) std::printf("trained with %s\n", io::printable_text(h.training).c_str());
    const std::size_t correct = train::count_correct(net, d.split.test);
    const std::size_t tested = d.split.test.size();
    std::printf("test accuracy %.4f (%zu/%zu)\n", static_cast<double>(correct) / static_cast<double>(tested), correct,
                tested);
    (void)flush_stdout();
    return exit_ok;
}

/// Calls evaluate<M> for the menu network M in element type T that the checkpoint holds.
template <class T, class... Ms>
bool evaluate_menu(const EvalOptions& o, const io::CheckpointImage& image, int& rc, type_list<Ms...>) {
    return ((io::holds<Ms>(image.header) ? (rc = evaluate<Ms>(o, image), true) : false) || ...);
}

}  // namespace

int run_eval(const EvalOptions& o) {
    io::CheckpointImage image;
    try {
        image = io::read_checkpoint_file(o.model);
    } catch (const io::CheckpointError& e) {
        throw RunError(cat("--model ", e.what()));
    }
    int rc = -1;
    if (evaluate_menu<float>(o, image, rc, networks<float>{}) || evaluate_menu<double>(o, image, rc, networks<double>{}))
        return rc;
    throw RunError(cat("--model ", o.model.string(), ": holds a ", describe_checkpoint(image.header),
                       ", not one of the compiled-in networks: ", join(shape_names_of(networks<float>{})),
                       " (float or double)"));
}

}  // namespace typegrad::cli
