//! `export_strategy!`: turns a `StrategyLogic` type into a loadable strategy plugin.
//!
//! ```ignore
//! // plugins/my-entry/src/lib.rs  (crate-type = ["cdylib", "rlib"])
//! use plugin_api::{Role, StrategyLogic};
//! pub struct MyEntry { /* … */ }
//! impl StrategyLogic for MyEntry { /* create, on_market, … */ }
//! plugin_api::export_strategy!(MyEntry, role = Role::Entry);
//! ```
//!
//! The macro exports the abi_stable library header (the same static `#[export_root_module]` would
//! emit, written with `$crate` paths so plugins need no direct abi_stable dependency). The plugin's
//! name and version are its crate's `CARGO_PKG_NAME` / `CARGO_PKG_VERSION`.

use crate::abi::{Logger, PluginError, Strategy_TO, StrategyBox};
use crate::guard::{Guarded, StrategyLogic, catch_guarded, install_panic_hook};
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RBox, RResult, RSlice, RStr, RString};

/// The `create` entry point for `T`, with its panic guard. Used by `export_strategy!`.
#[doc(hidden)]
pub extern "C" fn __create<T: StrategyLogic>(
    params_toml: RStr<'_>,
    markets: RSlice<'_, RString>,
    logger: Logger,
) -> RResult<StrategyBox, PluginError> {
    install_panic_hook();
    let markets: Vec<String> = markets.iter().map(|m| m.as_str().to_owned()).collect();
    match catch_guarded(|| T::create(params_toml.as_str(), &markets, logger)) {
        Ok(Ok(strategy)) => RResult::ROk(Strategy_TO::from_ptr(
            RBox::new(Guarded::new(strategy)),
            TD_Opaque,
        )),
        Ok(Err(msg)) => RResult::RErr(PluginError::failed(msg)),
        Err(panic) => RResult::RErr(PluginError::panicked(panic)),
    }
}

/// Exports `$ty` (a `StrategyLogic`) as this library's strategy plugin with the given role.
#[macro_export]
macro_rules! export_strategy {
    ($ty:ty, role = $role:expr $(,)?) => {
        #[doc(hidden)]
        extern "C" fn __strategy_plugin_name()
        -> $crate::__private::abi_stable::std_types::RStr<'static> {
            $crate::__private::abi_stable::std_types::RStr::from_str(env!("CARGO_PKG_NAME"))
        }

        #[doc(hidden)]
        extern "C" fn __strategy_plugin_version()
        -> $crate::__private::abi_stable::std_types::RStr<'static> {
            $crate::__private::abi_stable::std_types::RStr::from_str(env!("CARGO_PKG_VERSION"))
        }

        #[doc(hidden)]
        extern "C" fn __strategy_plugin_role() -> $crate::Role {
            $role
        }

        #[doc(hidden)]
        fn __strategy_plugin_root_module() -> $crate::abi::PluginModuleRef {
            use $crate::__private::abi_stable::prefix_type::PrefixTypeTrait;
            $crate::abi::PluginModule {
                name: __strategy_plugin_name,
                version: __strategy_plugin_version,
                role: __strategy_plugin_role,
                create: $crate::export::__create::<$ty>,
            }
            .leak_into_prefix()
        }

        /// The abi_stable library header: what `lib_header_from_path` looks up.
        #[doc(hidden)]
        #[unsafe(no_mangle)]
        pub static _1as_0lib_1header_0root_bmodule_bloader:
            $crate::__private::abi_stable::library::LibHeader = {
            extern "C" fn __sabi_erased_module()
            -> $crate::__private::abi_stable::library::RootModuleResult {
                $crate::__private::abi_stable::library::__call_root_module_loader(
                    __strategy_plugin_root_module,
                )
            }
            unsafe {
                $crate::__private::abi_stable::library::LibHeader::from_constructor::<
                    $crate::abi::PluginModuleRef,
                >(
                    __sabi_erased_module,
                    $crate::__private::abi_stable::library::CheckTypeLayout::Yes,
                )
            }
        };
    };
}
