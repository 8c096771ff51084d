using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace WorkflowTriggers.LoadContext;

/// <summary>
/// On import, routes the one assembly the cmdlets reference from the dependencies folder (the engine) to the
/// module's own load context. Everything the engine needs is then resolved inside that context.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    private const string EngineAssembly = "WorkflowTriggers.Engine";

    public void OnImport() => AssemblyLoadContext.Default.Resolving += ResolveEngine;

    public void OnRemove(PSModuleInfo psModuleInfo) => AssemblyLoadContext.Default.Resolving -= ResolveEngine;

    private static Assembly? ResolveEngine(AssemblyLoadContext defaultContext, AssemblyName name) =>
        name.Name == EngineAssembly ? DependencyLoadContext.Instance.LoadFromAssemblyName(name) : null;
}
