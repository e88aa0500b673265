// `typegrad train`: the menus and the dispatch to the training driver (drive.hpp). The MLPs of
// the menu are instantiated here, LeNet-5 in train_lenet.cpp.
#include "train.hpp"

#include <string>
#include <vector>

#include "drive.hpp"

namespace typegrad::cli {

extern template int train_network<lenet::network<float>>(const TrainOptions&, const io::CheckpointImage*);
extern template bool network_holds<lenet::network<float>>(const io::CheckpointHeader&);

namespace {

template <class... Ms>
int run_with_network(const TrainOptions& o, const io::CheckpointImage* resume, type_list<Ms...>) {
    int rc = -1;
    const bool found =
        ((o.net == shape_name<Ms>() ? (rc = train_network<Ms>(o, resume), true) : false) || ...);
    if (!found)
        throw UsageError(
            cat("--net: unknown network shape '", o.net, "'; the compiled-in shapes are ", join(network_names())));
    return rc;
}

}  // namespace

const std::vector<std::string>& network_names() {
    static const std::vector<std::string> names = shape_names_of(float_networks{});
    return names;
}

const std::vector<std::string>& engine_names() {
    static const std::vector<std::string> names = engine_names_of(engines{});
    return names;
}

int run_train(const TrainOptions& options) {
    if (!options.resume) return run_with_network(options, nullptr, float_networks{});
    const io::CheckpointImage image = read_resume(*options.resume);
    TrainOptions o = options;
    if (!o.net_given) {
        // The network comes from the checkpoint.
        const std::string name = []<class... Ms>(const io::CheckpointHeader& h, type_list<Ms...>) {
            std::string found;
            ((network_holds<Ms>(h) ? (found = shape_name<Ms>(), true) : false) || ...);
            return found;
        }(image.header, float_networks{});
        if (name.empty())
            throw RunError(cat("--resume ", o.resume->string(), ": holds a ", describe_checkpoint(image.header),
                               ", not one of the networks train runs: ", join(network_names()),
                               " (float)"));
        o.net = name;
    }
    return run_with_network(o, &image, float_networks{});
}

}  // namespace typegrad::cli
