// The list of compiled-in networks (compiled_in.hpp) and the lookups every command shares.
#include "compiled_in.hpp"

#include <utility>

#include "menu.hpp"
#include "typegrad/io/checkpoint_file.hpp"

namespace typegrad::cli {

static_assert(menu_size == TYPEGRAD_MENU_SIZE,
              "the menu (menu.hpp) and TYPEGRAD_MENU_SIZE in CMakeLists.txt list a different number of networks");

const std::vector<CompiledIn>& compiled_in() {
    static const std::vector<CompiledIn> list = []<std::size_t... I>(std::index_sequence<I...>) {
        return std::vector<CompiledIn>{{menu_entry_t<I>::name(), compiled_in_plugin<I, float>()}...,
                                       {menu_entry_t<I>::name(), compiled_in_plugin<I, double>()}...};
    }(std::make_index_sequence<menu_size>{});
    return list;
}

namespace {
bool has(const PluginApi& api, Need need) {
    if (need == Need::training) return api.train != nullptr;
    if (need == Need::gradcheck) return api.gradcheck != nullptr;
    return true;
}
}  // namespace

const PluginApi* compiled_in_network(const std::string& net, const std::string& cost, const std::string& element_type,
                                     Need need) {
    for (const CompiledIn& c : compiled_in())
        if (c.name == net && (cost.empty() || cost == c.api->cost) && element_type == c.api->element_type)
            return has(*c.api, need) ? c.api : nullptr;  // the first listed with this name and cost decides
    return nullptr;
}

std::string compiled_in_cost(const std::string& net) {
    for (const CompiledIn& c : compiled_in())
        if (c.name == net) return c.api->cost;
    return {};
}

const CompiledIn* compiled_in_holding(const io::CheckpointImage& image, Need need) {
    for (const CompiledIn& c : compiled_in())
        if (has(*c.api, need) && c.api->holds(image.header)) return &c;
    return nullptr;
}

const PluginApi& network_of_checkpoint(const io::CheckpointImage& image, const std::string& origin, Need need) {
    if (const CompiledIn* c = compiled_in_holding(image, need)) return *c->api;
    return load_network(checkpoint_request(image.header, origin));
}

}  // namespace typegrad::cli
